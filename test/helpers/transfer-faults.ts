// net-transfer across driver failures: a file of random bytes sent through an
// interface to the partner on a UDP socket while a driver bug is armed three
// times, each once a random number of data frames reached the partner (after
// the start, then after each recovery): the shadow tests of the net drivers.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { receiveFile, type PeerResult } from '../../lib/apps/net-peer.js';
import { isOurs, T_DATA } from '../../lib/apps/net-proto.js';
import { sendFile, type TransferResult } from '../../lib/apps/net-transfer.js';
import type { Kernel, NetInterface } from '../../lib/index.js';
import { ProgressFaults } from './progress-faults.js';

export interface TransferAcrossFaults {
  data: Buffer;
  sent: TransferResult;
  got: PeerResult;
  faults: ProgressFaults;
}

export async function transferAcrossFaults(kernel: Kernel, eth: NetInterface, peer: Socket, o: { peerMac: string; bytes: number; timeoutMs: number; arm: () => void }): Promise<TransferAcrossFaults> {
  const faults = new ProgressFaults(kernel, { faults: 3, between: [50, 400], arm: o.arm });
  const onWire = (f: Buffer) => isOurs(f) && f[14] === T_DATA && faults.advance();
  peer.on('message', onWire);
  const data = randomBytes(o.bytes);
  try {
    const [sent, got] = await Promise.all([
      sendFile(eth, data, { peerMac: o.peerMac, timeoutMs: o.timeoutMs }),
      receiveFile(peer, { mac: o.peerMac }),
    ]);
    return { data, sent, got, faults };
  } finally {
    peer.off('message', onWire);
    faults.stop();
  }
}
