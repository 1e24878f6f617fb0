// The ABBA deadlock under 'process': a kernel thread is inside the failing
// driver too, so it gets a process of its own (see faultMatrix).
import { describe } from 'vitest';
import { faultMatrix } from './helpers/fault-matrix.js';

describe("deadlock with a kernel thread, isolation 'process'", () => faultMatrix('process', 'deadlock'));
