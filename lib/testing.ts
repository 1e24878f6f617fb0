// Test-only hooks, apart from the public API ('nooks/testing'): they make an
// emulated device or a driver misbehave, give a test the other end of a wire,
// or show it a kernel object a wild write must not reach.
export { hostProbe } from './host-probe.js';
export { nicHangTx } from './classes/net.js';
export { ptyPair, uartRxLost } from './classes/serial.js';
