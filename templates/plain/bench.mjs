// The load of @NAME@'s benchmark (written by `nooks new @NAME@`):
//   npx nooks bench driver --driver build/@NAME@.so --workload @NAME@/bench.mjs --seconds 1 --runs 3
// In each isolation mode nooks loads the driver, calls start(), and reads done()
// at both ends of the measuring time: throughput is done() per second, and
// relative is that over none's. The load runs on its own, giving the event
// loop back often (nooks's timers run there).
export const unit = 'calls'; // what done() counts

export function start({ driver }) {
  let calls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (let i = 0; i < 1000; i++) driver.call('add', i, 1); // each call a crossing into the driver's domain
      calls += 1000;
      await new Promise(setImmediate); // the event loop's turn
    }
  })();
  return { done: () => calls, stop: async () => { running = false; await loop; } };
}
