// Which test files a worker was running when it went away. vitest reports a
// worker that dies (or whose IPC channel closes) only as "Worker exited
// unexpectedly" (or the EPIPE of its next message to it), without the file or
// the signal; with NOOKS_TEST_TRACE naming a file, each
// worker appends a line as each test file starts and ends, and one if its
// channel to vitest closes while it lives. .ci/run prints what never ended.
import { appendFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';

const trace = process.env.NOOKS_TEST_TRACE;
if (trace) {
  const project = process.env.NOOKS_TEST_ISOLATION ?? 'default';
  let running = '';
  let ended = ''; // the last file this worker finished: a channel that closes after it (a worker ends after each file) is noted too
  const note = (what: string) => appendFileSync(trace, `${new Date().toISOString()} pid ${process.pid} ${what}\n`);
  beforeAll(({}, suite) => { // a hook's first argument is its fixtures (none taken here), the second its suite
    running = `${suite.file.filepath} (${project})`;
    note(`start ${running}`);
  });
  afterAll(() => {
    note(`end ${running}`);
    ended = running;
    running = '';
  });
  // With what the process held then: a channel closed by a stray close() in the
  // worker would show its descriptor gone or reused.
  const held = () => {
    const fds = readdirSync('/proc/self/fd').map((fd) => {
      try { return `${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`; } catch { return `${fd}:?`; }
    });
    return `fds ${fds.join(' ')}; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`;
  };
  process.once('disconnect', () => note(`channel to vitest closed ${running ? `while running ${running}` : `after ${ended || 'no file'} ended`}; ${held()}`));
}
