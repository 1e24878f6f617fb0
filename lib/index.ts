export { Kernel, Driver, DriverFault, DriverUnavailable, type BootOptions, type LoadOptions, type Isolation } from './kernel.js';
export type { DeviceInfo, FaultKind, DriverState, LogLine, NativeDomain as DomainInfo, NativeObject as KernelObject, NativeTap as Tap, ParamValue } from './native.js';
export { loadPolicy, parsePolicy, defaultPolicy, type Policy, type DriverPolicy } from './recovery/policy.js';
export type { RecoveryEvent, RecoveryEventName } from './recovery/agent.js';
export { openBlock, BlockError, SECTOR_SIZE, type BlockDevice, type BlockOp, type BlockErrorCode, type OpenOptions as BlockOpenOptions } from './classes/block.js';
export { openPcm, openCapture, pcmDevices, PcmPlayback, PcmCapture, PcmError, type PcmOptions, type PcmStatus, type PcmDevice } from './classes/sound.js';
export { openSerial, serialPorts, ptyPair, ttyAttributes, uartLineSettings, uartRxLost, SerialPort, SerialError, type Termios, type Parity, type FlowControl, type SerialPortInfo } from './classes/serial.js';
export { openNet, netInterfaces, nicWire, nicCable, nicHangTx, NetInterface, NetError, type NetStats, type NetInfo, type NetConfig, type NicWire, type NetErrorCode } from './classes/net.js';
export { pciDevices, pciDevice, pciBind, pciUnbind, pciAddress, PciError, stubDriver, type PciDevice, type PciVia } from './pci.js';
