// The block class: how a block driver registers its disk and completes requests.
import type { KapiCall } from './types.js';

export const block: KapiCall[] = [];
