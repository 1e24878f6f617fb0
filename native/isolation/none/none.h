// Isolation 'none': drivers run as plain code of the kernel (the native
// baseline): a crossing is a call, a kernel call goes straight to its body
// (no checks), and a driver's fault is the process's.
#pragma once
#include "../backend.h"

namespace nooks {
extern const IsolationBackend kNoneBackend;
}
