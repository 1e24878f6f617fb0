// Isolation 'none': drivers run as plain code of the kernel (the native
// baseline): a crossing is a call on the thread's domain stack, a kernel call
// goes straight to its body on the host stack (no checks), and a driver's
// fault is the process's.
#pragma once
#include "../backend.h"

namespace nooks {
extern const IsolationBackend kNoneBackend;
}
