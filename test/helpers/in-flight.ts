// Which test files a worker was running when it went away. vitest reports a
// worker that dies (or whose IPC channel closes) only as "Channel closed",
// without the file or the signal; with NOOKS_TEST_TRACE naming a file, each
// worker appends a line as each test file starts and ends, and one if its
// channel to vitest closes while it lives. .ci/run prints what never ended.
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

const trace = process.env.NOOKS_TEST_TRACE;
if (trace) {
  const project = process.env.NOOKS_TEST_ISOLATION ?? 'default';
  let running = '';
  const note = (what: string) => appendFileSync(trace, `${new Date().toISOString()} pid ${process.pid} ${what}\n`);
  beforeAll((suite) => {
    running = `${suite.file.filepath} (${project})`;
    note(`start ${running}`);
  });
  afterAll(() => {
    note(`end ${running}`);
    running = '';
  });
  process.once('disconnect', () => running && note(`channel to vitest closed while running ${running}`));
}
