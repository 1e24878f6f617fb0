// A driver from outside the project, brought as a user brings theirs: the
// sources of a small 82540EM driver written the way lab drivers are, from the
// datasheet and against libc (test/fixtures/outside-e1k/e1k.c: not our
// drivers/e1000-libc, and nothing nooks-specific in it), built with the
// command line (`nooks build --posix`), loaded with the load option
// `devices` naming the emulated e1000, and called as the library it is. It
// must bring the NIC up through the personality's view and send frames that
// reach the link partner intact, in every isolation mode of the default
// project. Issue 15's held-out check is this, with a driver nobody here wrote.
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Kernel, type Isolation } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { nooks, shown } from './helpers/cli.js';
import { wirePartner } from './helpers/frames.js';
import { logEvents, until } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-outside-'));
const so = join(dir, 'e1k.so');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const r = await nooks(['build', '--posix', join(packageRoot, 'test', 'fixtures', 'outside-e1k', 'e1k.c'), '-o', so], { cwd: dir, timeoutMs: 60_000 });
  expect(r.code, shown(r)).toBe(0);
}, 90_000);

describe.each<Isolation>(['mprotect', 'process', 'none'])("a driver from outside, built with nooks build --posix, isolation '%s'", (isolation) => {
  let kernel: Kernel | undefined;
  let peer: Socket | undefined;
  afterEach(async () => {
    await kernel?.shutdown();
    peer?.close();
    [kernel, peer] = [undefined, undefined];
  });

  it('brings the emulated e1000 up through the view and sends frames that reach the partner intact', async () => {
    const atPeer: Buffer[] = [];
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({ isolation });
    const nic = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}` });
    const drv = await kernel.load(so, { devices: [nic.address], env: { E1K_VERBOSE: '1' } });
    expect(drv.call('e1k_init', drv.cstring(nic.address))).toBe(0);
    // its constructor read E1K_VERBOSE (inside the domain, before anything else ran); the model's MAC, from RAL0/RAH0
    expect(kernel.log().map((l) => l.text)).toContainEqual(expect.stringMatching(
      new RegExp(`^\\[e1k\\] ${nic.address}: mac 52:54:00:12:34:[0-9a-f]{2} link up, up in [0-9.]+ ms$`)));
    expect(logEvents(kernel, 'view-denied')).toEqual([]); // all it opened was in its view (driver/unbind included)
    let sent = 0;
    for (let round = 0; round < 20; round++) {
      sent += Number(drv.call('e1k_send', 32, 128));
      await until(() => atPeer.length >= sent, `${sent} frames at the partner`, 10_000);
    }
    expect(sent).toBe(640);
    expect(Number(drv.call('e1k_sent'))).toBe(640);
    expect(atPeer).toHaveLength(640);
    atPeer.forEach((f, i) => {
      expect(f.length).toBe(128);
      expect(f.readBigUInt64LE(14)).toBe(BigInt(i)); // in order, numbered as sent
      expect(f.subarray(22).every((b) => b === 0x5a), `frame ${i}'s payload`).toBe(true);
    });
  });
});
