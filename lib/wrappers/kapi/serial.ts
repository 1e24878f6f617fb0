// The serial (tty) class: how a UART driver registers its port and moves bytes.
import type { KapiCall } from './types.js';

export const serial: KapiCall[] = [];
