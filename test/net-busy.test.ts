// A driver whose ring is full refuses a frame with NETDEV_TX_BUSY: the kernel
// gives it that frame again, first, after a completion, as Linux stops the
// queue at a refusal. The driver is test/fixtures/drivers/net-open-refused.c:
// its 3rd transmit is refused (busy_at), and it keeps what it accepts until
// tx_complete(). Before, the batch of ndo_start_xmit calls ran on past the
// refusal: the frames after the refused one were accepted ahead of it
// ([0, 1, 3, 4, 5, 6, 7, 2]), and the file transfer's first-in-first-out
// partner saw a gap, a resend and a duplicate.
import { afterEach, expect, it } from 'vitest';
import { Kernel, openNet } from '../lib/index.js';
import { fixtureDriver } from './helpers/build-driver.js';
import { suiteIsolation, until } from './helpers/util.js';

let kernel: Kernel | undefined;
afterEach(async () => {
  await kernel?.shutdown();
  kernel = undefined;
});

// A broadcast frame of our test ethertype carrying `seq` at byte 14.
function numbered(seq: number): Buffer {
  const f = Buffer.alloc(60);
  f.fill(0xff, 0, 6);
  f.writeUInt16BE(0x88b6, 12);
  f.writeUInt32BE(seq, 14);
  return f;
}

it('a frame refused NETDEV_TX_BUSY mid-batch leaves before the frames sent after it', async () => {
  kernel = await Kernel.boot({ isolation: suiteIsolation });
  kernel.addDevice('e1000');
  const drv = await kernel.load(fixtureDriver('net-open-refused'), { params: { busy_at: 3 } });
  const eth = openNet(kernel, 'eth0');
  eth.send(Array.from({ length: 8 }, (_, i) => numbered(i)));
  await until(() => eth.stats().kernel.txBusy === 1, 'the driver refused the 3rd frame');
  expect(drv.call('frames_sent')).toBe(2); // the queue stopped at the refusal
  expect(drv.call('tx_complete')).toBe(2); // the ring has room again: the kernel gives the rest
  await until(() => drv.call('frames_sent') === 8, 'all 8 frames accepted');
  expect(Array.from({ length: 8 }, (_, i) => drv.call('frame_seq', i))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  expect(eth.stats().kernel).toMatchObject({ txBusy: 1, txQueued: 8, txDropped: 0 });
  eth.close();
});
