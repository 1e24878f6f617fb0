// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it exercises the driver and says whether the work came out right (a throw is a failure).
// Faults go into every function of the driver: a function the workload never
// calls is a fault that never shows, so it calls each of them but oops().
export default async function workload({ driver }) {
  for (let attempt = 1; ; attempt++) {
    try {
      return work(driver);
    } catch (e) {
      // the driver failed and nooks restarts it (its state reset): start the work over, once
      if (attempt === 2 || e.name !== 'DriverFault') throw e;
      while (driver.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    }
  }
}

function work(driver) {
  const before = driver.call('calls');
  for (let i = 0; i < 100; i++) {
    if (driver.call('add', i, 1) !== i + 1) return { ok: false, detail: `add(${i}, 1) was wrong` };
  }
  const buf = driver.alloc(64);
  driver.write(buf, Buffer.alloc(64, 2));
  const sum = driver.call('checksum', buf, 64);
  driver.free(buf);
  if (sum !== 128) return { ok: false, detail: `checksum was ${sum}, not 128` };
  const text = driver.cstring('workload');
  const greeted = driver.call('greet', text);
  driver.free(text);
  if (greeted !== 8) return { ok: false, detail: `greet('workload') was ${greeted}, not 8` };
  const counted = driver.call('calls') - before;
  return counted === 102 ? true : { ok: false, detail: `calls() counted ${counted} calls, not 102` };
}
