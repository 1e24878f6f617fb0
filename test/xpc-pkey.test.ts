// Crossings under isolation 'pkey' (see helpers/xpc-suite.ts); where this CPU
// or kernel cannot run it, test/guest-pkey.test.ts runs this file in a guest.
import { describe } from 'vitest';
import { Kernel } from '../lib/index.js';
import { xpcSuite } from './helpers/xpc-suite.js';

const reason = Kernel.pkeyUnusableReason();

describe.skipIf(reason !== '')(`crossings, isolation 'pkey'${reason ? ` (skipped here: ${reason})` : ''}`, () => xpcSuite('pkey'));
