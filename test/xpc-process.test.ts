// Crossings under isolation 'process' (see helpers/xpc-suite.ts).
import { describe } from 'vitest';
import { xpcSuite } from './helpers/xpc-suite.js';

describe("crossings, isolation 'process'", () => xpcSuite('process'));
