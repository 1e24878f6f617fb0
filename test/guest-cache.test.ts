// The guest's kernel is downloaded once into the user's cache, never into the
// package's folder: installed, that is node_modules/nooks, which nothing may
// write to at run time (and a user may not be able to).
import { execFileSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { guestCacheDir } from '../lib/guest/qemu.js';
import { packageRoot } from '../lib/paths.js';

const cacheDirWith = (env: NodeJS.ProcessEnv) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', "console.log((await import('./dist/lib/guest/qemu.js')).guestCacheDir)"],
    { cwd: packageRoot, env: { ...process.env, ...env }, encoding: 'utf8' }).trim();

it("the guest's cache is the user's, outside the package", () => {
  expect(guestCacheDir.startsWith(packageRoot)).toBe(false);
  expect(cacheDirWith({ XDG_CACHE_HOME: '' })).toBe(join(homedir(), '.cache', 'nooks', 'guest'));
  expect(cacheDirWith({ XDG_CACHE_HOME: '/tmp/a cache' })).toBe('/tmp/a cache/nooks/guest');
});
