// The fault matrix under isolation 'pkey': it needs a CPU with protection keys
// (PKU/OSPKE) and a recent enough kernel, so elsewhere it is skipped, saying
// why (guest-pkey.test.ts then runs it inside a QEMU guest).
import { describe } from 'vitest';
import { Kernel } from '../lib/index.js';
import { faultMatrix } from './helpers/fault-matrix.js';

const pku = Kernel.pkuSupported();

describe.skipIf(!pku)(`fault matrix, isolation 'pkey'${pku ? '' : ` (skipped: ${Kernel.pkeyUnusableReason()})`}`, () =>
  faultMatrix('pkey'),
);
