// A child process for the loader tests, so that a file that kills its host
// kills this process, not the test runner. Usage:
//   node load-each.mjs <isolation> <list file> [export] [arg]
// Boots a kernel, then for each path in the list file (one a line) loads it,
// calls `export(arg)` if it loaded, and unloads it. Prints one JSON line per
// file, and a `{"trying":path}` line before each, so that a death names the
// file it happened on (stdout to a pipe is synchronous on Linux).
import { readFileSync } from 'node:fs';
import { Kernel } from '../../dist/lib/index.js';
import { print } from './program.mjs';

const [isolation, list, fn, arg] = process.argv.slice(2);
const kernel = await Kernel.boot({ isolation });

for (const file of readFileSync(list, 'utf8').split('\n').filter(Boolean)) {
  print({ trying: file });
  let driver;
  try {
    // a short watchdog: a damaged driver may loop in module_init
    driver = await kernel.load(file, { timeBudgetMs: 200 });
  } catch (e) {
    print({ file, code: e.code, message: e.message });
    continue;
  }
  let result;
  try {
    result = fn ? String(driver.call(fn, ...(arg === undefined ? [] : [Number(arg)]))) : 'loaded';
  } catch (e) {
    result = `${e.name}: ${e.message}`; // a fault inside the domain: contained
  }
  try {
    driver.unload();
  } catch {
    // a driver its fault left failed may already be gone
  }
  print({ file, loaded: true, result });
}
await kernel.shutdown();
print({ done: true });
