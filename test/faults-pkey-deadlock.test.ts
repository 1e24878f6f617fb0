// The ABBA deadlock under 'pkey' (see faults-mprotect-deadlock.test.ts).
import { describe } from 'vitest';
import { Kernel } from '../lib/index.js';
import { faultMatrix } from './helpers/fault-matrix.js';

const pku = Kernel.pkuSupported();

describe.skipIf(!pku)(
  `deadlock with a kernel thread, isolation 'pkey'${pku ? '' : ` (skipped: ${Kernel.pkeyUnusableReason()})`}`,
  () => faultMatrix('pkey', 'deadlock'),
);
