// Crossings under isolation 'mprotect' (see helpers/xpc-suite.ts).
import { describe } from 'vitest';
import { xpcSuite } from './helpers/xpc-suite.js';

describe("crossings, isolation 'mprotect'", () => xpcSuite('mprotect'));
