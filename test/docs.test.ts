// The generated docs match the code they describe.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { reference } from '../lib/wrappers/reference.js';

describe('docs', () => {
  it('docs/driver-api.md lists every kernel call and class operation as the interface descriptions say (npm run docs)', () => {
    expect(readFileSync(join(packageRoot, 'docs', 'driver-api.md'), 'utf8')).toBe(reference());
  });
});
