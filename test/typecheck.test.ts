// The tests are type-checked against the library's public types (test/tsconfig.json):
// vitest only strips types, so a test whose types went wrong after an API change
// would otherwise run on, silently testing something else.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { runNode } from './helpers/util.js';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('types', () => {
  it('the tests type-check (tsc --noEmit -p test/tsconfig.json)', async () => {
    const run = await runNode([tsc, '--noEmit', '--pretty', 'false', '-p', 'test/tsconfig.json'], packageRoot, 110_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }, 120_000);
});
