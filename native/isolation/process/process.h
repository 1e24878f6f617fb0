// Isolation 'process': each driver runs in a host process of its own
// (driver_host.h says how); this is its backend table.
#pragma once
#include "../backend.h"

namespace nooks {
extern const IsolationBackend kProcessBackend;
}
