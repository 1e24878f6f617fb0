// A string argument of a kernel call is read once: the generated wrapper
// (gen/kapi_wrappers.inc, from lib/wrappers/generate.ts) checks it byte by byte
// into a kernel copy and the body gets that copy. Were the body given the
// driver's pointer, another driver thread could move the NUL between the check
// and the body's own reading (strlen, std::string) and send the kernel past the
// driver's memory. That race has no deterministic trigger (no body with a string
// waits or calls back into the driver), so this checks what each body receives.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelCalls } from '../lib/wrappers/kapi.js';
import { packageRoot } from '../lib/paths.js';

const wrappers = readFileSync(join(packageRoot, 'gen', 'kapi_wrappers.inc'), 'utf8');

/** The text of the checking wrapper of call `name`. */
function wrapperOf(name: string): string {
  const start = wrappers.indexOf(`checked_${name}(`);
  expect(start, name).toBeGreaterThan(0);
  return wrappers.slice(start, wrappers.indexOf('\n}\n', start));
}

/** The arguments the wrapper passes to the body (`kapi_<name>`), split at top-level commas. */
function bodyArgs(wrapper: string, name: string): string[] {
  const call = new RegExp(`kapi_${name}\\((.*)\\);`).exec(wrapper);
  expect(call, name).not.toBeNull();
  return call![1] ? call![1].split(', ') : [];
}

const withStrings = kernelCalls.filter((c) => c.params.some((q) => q.check.kind === 'string'));

describe('string arguments of kernel calls', () => {
  it('some calls take strings (open, getenv, request_irq, abort...)', () => {
    expect(withStrings.map((c) => c.name)).toEqual(expect.arrayContaining(['request_irq', 'nooks_posix_open', 'nooks_posix_getenv', 'nooks_posix_abort']));
  });

  it.each(withStrings.map((c) => [c.name, c] as const))('%s: the body gets the kernel copy the check made, never the driver\'s bytes', (name, c) => {
    const w = wrapperOf(name);
    const args = bodyArgs(w, name);
    c.params.forEach((q, i) => {
      if (q.check.kind !== 'string') return;
      const max = q.check.max;
      expect(w).toContain(`char ${q.name}_copy[${max}];`);
      expect(w).toContain(`copy_string(d, ${q.name}, ${max}, ${q.name}_copy, "${name}", "${q.name}");`);
      expect(args[i]).toBe(q.check.nullable ? `${q.name} ? ${q.name}_copy : nullptr` : `${q.name}_copy`);
    });
  });
});
