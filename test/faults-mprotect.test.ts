// The fault matrix under isolation 'mprotect' (runs on every x86-64 Linux).
import { describe } from 'vitest';
import { faultMatrix } from './helpers/fault-matrix.js';

describe("fault matrix, isolation 'mprotect'", () => faultMatrix('mprotect'));
