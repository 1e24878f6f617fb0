export { Kernel, Driver, DriverFault, DriverUnavailable, type BootOptions, type LoadOptions, type Isolation } from './kernel.js';
export type { DeviceInfo, FaultKind, DriverState, LogLine, NativeDomain as DomainInfo, NativeObject as KernelObject } from './native.js';
export { loadPolicy, parsePolicy, defaultPolicy, type Policy, type DriverPolicy } from './recovery/policy.js';
export type { RecoveryEvent, RecoveryEventName } from './recovery/agent.js';
