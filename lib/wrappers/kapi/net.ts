// The net class: how a network driver registers its interface and moves frames.
import type { KapiCall } from './types.js';

export const net: KapiCall[] = [];
