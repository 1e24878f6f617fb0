// The sound class: how a PCM driver registers its streams and reports periods.
import type { KapiCall } from './types.js';

export const sound: KapiCall[] = [];
