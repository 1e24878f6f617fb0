// The fault matrix under isolation 'process': each driver in a host process of its own.
import { describe } from 'vitest';
import { faultMatrix } from './helpers/fault-matrix.js';

describe("fault matrix, isolation 'process'", () => faultMatrix('process'));
