// Creating a directory and its parents. Node's mkdirSync({ recursive: true })
// never returns under /proc (mkdir there fails with ENOENT however often it
// retries): here each parent is made once, and a second failure is the error.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** `mkdir -p path`: throws Node's error (its code, the path) when it cannot. */
export function makeDirs(path: string): void {
  try {
    mkdirSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(path).isDirectory()) return;
    if (code !== 'ENOENT' || dirname(path) === path) throw e;
    makeDirs(dirname(path));
    mkdirSync(path);
  }
}
