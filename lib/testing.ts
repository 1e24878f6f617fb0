// Test-only hooks, apart from the public API ('nooks/testing'): they make an
// emulated device or a driver misbehave, or give a test the other end of a wire.
export { nicHangTx } from './classes/net.js';
export { ptyPair, uartRxLost } from './classes/serial.js';
