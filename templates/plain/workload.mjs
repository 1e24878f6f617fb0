// The workload of @NAME@'s fault-injection campaigns (written by `nooks new @NAME@`):
//   npx nooks inject build/@NAME@.so --workload @NAME@/workload.mjs
//   npx nooks campaign --driver build/@NAME@.so --workload @NAME@/workload.mjs --trials 50
// nooks loads the driver with a fault injected into its code, then calls this;
// it exercises the driver and says whether the work came out right (a throw is a failure).
export default async function workload({ driver }) {
  for (let i = 0; i < 100; i++) {
    if (driver.call('add', i, 1) !== i + 1) return { ok: false, detail: `add(${i}, 1) was wrong` };
  }
  const buf = driver.alloc(64);
  driver.write(buf, Buffer.alloc(64, 2));
  const sum = driver.call('checksum', buf, 64);
  driver.free(buf);
  return sum === 128 ? true : { ok: false, detail: `checksum was ${sum}, not 128` };
}
