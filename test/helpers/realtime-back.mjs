// A program for test/timerfd-clock-step.test.ts (run from dist/: `npm run
// build` first), under LD_PRELOAD=realtime-back.so:
//   node realtime-back.mjs <driver path>
// Arms the driver's CLOCK_REALTIME timerfd with expiries due and reads it;
// then sets the realtime clock back 10 s (realtime-back.c) and polls and
// reads it again, nonblocking; prints what each saw.
import { Kernel } from '../../dist/lib/index.js';
import { print } from './program.mjs';

const kernel = await Kernel.boot({ isolation: 'mprotect' });
const d = await kernel.load(process.argv[2]);
const seen = () => ({ readable: Number(d.call('readable')), readErrno: Number(d.call('read_errno')), countHigh: Number(d.call('count_high')) });
const armed = Number(d.call('arm'));
const before = seen();
process.env.NOOKS_TEST_REALTIME_BACK_S = '10';
const after = seen();
d.unload();
await kernel.shutdown();
print({ armed, before, after });
