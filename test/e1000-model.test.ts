// The emulated 82540EM (native/classes/net/e1000_model.cc) register by
// register, against what the 8254x Software Developer's Manual and QEMU's
// e1000 (the reference a driver is checked on) say, for everything a driver
// touches: reset, link status, the PHY, the EEPROM, receive address filtering, the
// statistics counters, the descriptor rings and their head/tail registers,
// interrupt cause and mask, descriptor write-back. A small driver (built
// here) only maps BAR 0, holds 64 KiB of DMA memory and counts interrupts;
// the test drives the registers and rings itself, the wire's other end is a
// UDP socket in this test.
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../lib/apps/net-proto.js';
import { Kernel, nicCable, type Driver } from '../lib/index.js';
import { mac, nicPortOf, wirePartner } from './helpers/frames.js';
import { buildDriver } from './helpers/build-driver.js';
import { udpSocket, until } from './helpers/util.js';

const regsDriver = `#include <nooks/kapi.h>

MODULE_LICENSE("GPL");

#define DMA_SIZE 65536

static void __iomem *hw;
static u8 *mem;
static dma_addr_t mem_bus;
static long irqs;

static irqreturn_t count_irq(int irq, void *data)
{
	(void)irq;
	(void)data;
	__atomic_add_fetch(&irqs, 1, __ATOMIC_RELAXED);
	iowrite32(0xffffffff, hw + 0xd8);	/* IMC: masked until the test unmasks again */
	return IRQ_HANDLED;
}

static int regs_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	(void)id;
	if (pci_enable_device(pdev))
		return -ENODEV;
	pci_set_master(pdev);
	hw = pci_iomap(pdev, 0, 0);
	mem = dma_alloc_coherent(&pdev->dev, DMA_SIZE, &mem_bus, GFP_KERNEL);
	if (!hw || !mem)
		return -ENOMEM;
	return request_irq(pdev->irq, count_irq, IRQF_SHARED, "e1000regs", pdev);
}

static const struct pci_device_id ids[] = {
	PCI_DEVICE(0x8086, 0x100e),
	{ 0, 0 },
};

static struct pci_driver regs_driver = {
	.name = "e1000regs",
	.id_table = ids,
	.probe = regs_probe,
};

NOOKS_EXPORT long rd(long off) { return ioread32(hw + off); }
NOOKS_EXPORT long wr(long off, long v) { iowrite32((u32)v, hw + off); return 0; }
NOOKS_EXPORT long mem_addr(void) { return (long)mem; }
NOOKS_EXPORT long bus_addr(void) { return (long)mem_bus; }
NOOKS_EXPORT long irq_count(void) { return __atomic_load_n(&irqs, __ATOMIC_RELAXED); }

static int regs_init(void) { return pci_register_driver(&regs_driver); }
static void regs_exit(void) { pci_unregister_driver(&regs_driver); }

module_init(regs_init);
module_exit(regs_exit);
`;

// registers and bits (SDM chapter 13)
const CTRL = 0x0, STATUS = 0x8, EERD = 0x14, ICR = 0xc0, ICS = 0xc8, IMS = 0xd0, IMC = 0xd8, RCTL = 0x100, TCTL = 0x400;
const RDBAL = 0x2800, RDBAH = 0x2804, RDLEN = 0x2808, RDH = 0x2810, RDT = 0x2818, RADV = 0x282c;
const TDBAL = 0x3800, TDBAH = 0x3804, TDLEN = 0x3808, TDH = 0x3810, TDT = 0x3818;
const MPC = 0x4010, PRC64 = 0x405c, PRC127 = 0x4060, PRC1522 = 0x4070, GPRC = 0x4074, BPRC = 0x4078, GPTC = 0x4080;
const GORCL = 0x4088, GORCH = 0x408c, GOTCL = 0x4090, GOTCH = 0x4094, TORL = 0x40c0, TORH = 0x40c4, TOTL = 0x40c8, TOTH = 0x40cc;
const TPR = 0x40d0, TPT = 0x40d4, PTC64 = 0x40d8, PTC255 = 0x40e0, PTC1522 = 0x40ec, BPTC = 0x40f4, MTA = 0x5200;
const RAL = (n: number) => 0x5400 + 8 * n, RAH = (n: number) => 0x5404 + 8 * n;
const CTRL_SLU = 1 << 6, CTRL_ASDE = 1 << 5, CTRL_RST = 1 << 26, RAH_AV = 0x8000_0000;
const ICR_TXDW = 1 << 0, ICR_TXQE = 1 << 1, ICR_LSC = 1 << 2, ICR_RXT0 = 1 << 7;
const RCTL_EN = 1 << 1, RCTL_UPE = 1 << 3, RCTL_BAM = 1 << 15, RCTL_SECRC = 1 << 26, TCTL_EN = 1 << 1, TCTL_PSP = 1 << 3;
const TXD_EOP = 1, TXD_IFCS = 2, TXD_RS = 8, DD = 1, EOP = 2, IXSM = 4;

const NIC_MAC = '52:54:00:ab:cd:01';
const PEER_MAC = '52:54:00:cc:dd:02';

function frame(dst: string, seed: number, len: number): Buffer {
  const f = Buffer.alloc(len);
  mac(dst).copy(f, 0);
  mac(PEER_MAC).copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  for (let i = 14; i < len; i++) f[i] = (seed * 31 + i * 7) & 0xff;
  return f;
}

// DMA memory layout: the rings, then 2 KiB buffers
const RX_RING = 0x0, TX_RING = 0x1000, BUFS = 0x2000, RING = 8;

describe('the emulated 82540EM against the SDM and QEMU\'s e1000', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nooks-e1000-model-'));
  let kernel: Kernel;
  let drv: Driver;
  let peer: Socket;
  let nicPort = 0;
  let mem = 0;
  let bus = 0n;
  const atPeer: Buffer[] = [];

  const rd = (off: number) => Number(drv.call('rd', off)) >>> 0;
  const wr = (off: number, v: number) => void drv.call('wr', off, v >>> 0);
  const put = (off: number, b: Buffer) => drv.write(mem + off, b);
  const get = (off: number, len: number) => drv.read(mem + off, len);
  const busLo = (off: number) => Number((bus + BigInt(off)) & 0xffffffffn);
  const busHi = (off: number) => Number((bus + BigInt(off)) >> 32n);
  const link = () => wr(CTRL, rd(CTRL) | CTRL_SLU | CTRL_ASDE);
  const clearStats = () => {
    for (let r = 0x4000; r < 0x4100; r += 4) rd(r);
  };

  /** A transmit descriptor: buffer at `buf`, `len` bytes, command `cmd`, status cleared. */
  const txDesc = (i: number, buf: number, len: number, cmd: number) => {
    const d = Buffer.alloc(16);
    d.writeBigUInt64LE(bus + BigInt(buf), 0);
    d.writeUInt16LE(len, 8);
    d[11] = cmd;
    put(TX_RING + 16 * i, d);
  };
  const txRing = () => {
    wr(TCTL, 0);
    wr(TDBAL, busLo(TX_RING));
    wr(TDBAH, busHi(TX_RING));
    wr(TDLEN, RING * 16);
    wr(TDH, 0);
    wr(TDT, 0);
  };
  const rxRing = (rctl: number) => {
    wr(RCTL, 0);
    const ring = Buffer.alloc(RING * 16);
    for (let i = 0; i < RING; i++) ring.writeBigUInt64LE(bus + BigInt(BUFS + 2048 * i), 16 * i);
    put(RX_RING, ring);
    wr(RDBAL, busLo(RX_RING));
    wr(RDBAH, busHi(RX_RING));
    wr(RDLEN, RING * 16);
    wr(RDH, 0);
    wr(RDT, RING - 1);
    wr(RCTL, rctl | RCTL_EN);
  };
  const rxDesc = (i: number) => {
    const d = get(RX_RING + 16 * i, 16);
    return { length: d.readUInt16LE(8), status: d[12], errors: d[13] };
  };
  const fromPeer = (f: Buffer) => peer.send(f, nicPort, '127.0.0.1');

  beforeAll(async () => {
    peer = await wirePartner(atPeer);
    kernel = await Kernel.boot({ isolation: 'mprotect' });
    const dev = kernel.addDevice('e1000', { peer: `127.0.0.1:${peer.address().port}`, mac: NIC_MAC });
    nicPort = nicPortOf(dev.name);
    drv = await kernel.load(buildDriver(dir, 'e1000regs', regsDriver));
    mem = Number(drv.call('mem_addr'));
    bus = BigInt(drv.call('bus_addr'));
  });
  afterAll(async () => {
    await kernel?.shutdown();
    peer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reset (CTRL.RST): registers back to their power-on values, RAL0/RAH0 reloaded from the EEPROM, RST self-clearing', () => {
    link();
    wr(IMS, ICR_RXT0);
    txRing();
    wr(RCTL, RCTL_EN | RCTL_UPE);
    wr(RAL(1), 0x12345678);
    wr(RAH(1), RAH_AV | 0x9abc);
    wr(MTA + 12, 5);
    wr(RAL(0), 0);
    expect(rd(TDLEN)).toBe(RING * 16);
    wr(CTRL, rd(CTRL) | CTRL_RST);
    expect(rd(CTRL) & CTRL_RST).toBe(0);
    for (const r of [IMS, TDBAL, TDLEN, RCTL, TCTL, RAL(1), RAH(1), MTA + 12]) expect([r, rd(r)]).toEqual([r, 0]);
    expect(rd(RAL(0))).toBe(0xab005452); // 52:54:00:ab, little-endian
    expect(rd(RAH(0))).toBe((RAH_AV | 0x01cd) >>> 0); // cd:01, address valid
    expect(rd(STATUS) & 2).toBe(0); // SLU cleared by the reset: no link
  });

  it('STATUS: link up once SLU is set, at 1000 Mb/s full duplex; the cable pulled: LU clears and LSC is raised', () => {
    link();
    expect(rd(STATUS)).toBe(0x283); // FD | LU | SPEED 1000 | ASDV 1000
    rd(ICR);
    expect(nicCable('e10000', false)).toBe(true);
    expect(rd(STATUS) & 2).toBe(0);
    expect(rd(ICR) & ICR_LSC).toBe(ICR_LSC);
    nicCable('e10000', true);
    expect(rd(STATUS)).toBe(0x283);
    expect(rd(ICR) & ICR_LSC).toBe(ICR_LSC);
  });

  it('the PHY through MDIC: its IDs, link status following the cable, BMCR writable with its self-clearing bits; another PHY address is an error', () => {
    const MDIC = 0x20, READ = 2 << 26, WRITE = 1 << 26, READY = 1 << 28, ERROR = 1 << 30;
    const mdi = (op: number, reg: number, data = 0, phy = 1) => {
      wr(MDIC, op | (phy << 21) | (reg << 16) | data);
      return rd(MDIC);
    };
    expect([mdi(READ, 2) & 0xffff, mdi(READ, 3) & 0xffff]).toEqual([0x0141, 0x0c20]);
    expect(mdi(READ, 1) & (READY | ERROR | 0x24)).toBe(READY | 0x24); // link, auto-negotiation complete
    nicCable('e10000', false);
    expect(mdi(READ, 1) & 0x24).toBe(0);
    expect(mdi(READ, 0x11) & 0x400).toBe(0);
    nicCable('e10000', true);
    expect(mdi(READ, 0x11) & 0x400).toBe(0x400);
    expect(mdi(WRITE, 0, 0x9340) & (READY | ERROR)).toBe(READY); // reset, restart auto-negotiation
    expect(mdi(READ, 0) & 0xffff).toBe(0x1140);
    expect(mdi(WRITE, 1, 0) & ERROR).toBe(ERROR); // BMSR is read-only
    expect(mdi(READ, 2, 0, 2) & (READY | ERROR)).toBe(READY | ERROR);
  });

  it('EEPROM through EERD: the MAC in words 0-2, words adding up to 0xBABA, DONE; past the 64 words: DONE, no data', () => {
    const word = (w: number) => {
      wr(EERD, (w << 8) | 1);
      const v = rd(EERD);
      expect(v & 0x10).toBe(0x10); // DONE
      expect((v >> 8) & 0xff).toBe(w);
      return v >>> 16;
    };
    expect([word(0), word(1), word(2)]).toEqual([0x5452, 0xab00, 0x01cd]);
    let sum = 0;
    for (let w = 0; w < 64; w++) sum = (sum + word(w)) & 0xffff;
    expect(sum).toBe(0xbaba);
    expect(word(64)).toBe(0);
  });

  it('interrupts: ICS sets causes, ICR reads and clears them (ICS reads them without clearing), writing 1s to ICR clears; IMS/IMC gate the line', async () => {
    wr(IMC, 0xffffffff);
    rd(ICR);
    const before = Number(drv.call('irq_count'));
    wr(ICS, ICR_RXT0 | ICR_TXQE);
    expect(rd(ICS)).toBe(ICR_RXT0 | ICR_TXQE);
    expect(rd(IMS)).toBe(0);
    wr(ICR, ICR_TXQE);
    expect(rd(ICR)).toBe(ICR_RXT0);
    expect(rd(ICR)).toBe(0);
    expect(Number(drv.call('irq_count'))).toBe(before); // masked: no interrupt
    wr(IMS, ICR_LSC);
    wr(ICS, ICR_RXT0);
    expect(Number(drv.call('irq_count'))).toBe(before); // a cause outside the mask
    wr(IMS, ICR_RXT0); // unmasking a pending cause raises the line
    await until(() => Number(drv.call('irq_count')) === before + 1, 'the interrupt');
    expect(rd(IMS)).toBe(0); // the handler masked everything (IMC)
    expect(rd(ICR)).toBe(ICR_RXT0);
  });

  it('transmit: TDH..TDT go out in order; DD and TXDW only where RS asked; TDH follows; TCTL.EN after TDT sends what waits', async () => {
    link();
    txRing();
    wr(IMC, 0xffffffff);
    rd(ICR);
    const frames = [frame(PEER_MAC, 1, 100), frame(PEER_MAC, 2, 1514), frame('ff:ff:ff:ff:ff:ff', 3, 60)];
    frames.forEach((f, i) => {
      put(BUFS + 2048 * i, f);
      txDesc(i, BUFS + 2048 * i, f.length, TXD_EOP | TXD_IFCS | (i === 1 ? 0 : TXD_RS));
    });
    wr(TDT, 3); // the transmitter is off: nothing yet
    expect(rd(TDH)).toBe(0);
    atPeer.length = 0;
    wr(TCTL, TCTL_EN | TCTL_PSP);
    expect(rd(TDH)).toBe(3);
    await until(() => atPeer.length === 3, 'three frames at the peer');
    expect(atPeer).toEqual(frames);
    expect([0, 1, 2].map((i) => get(TX_RING + 16 * i + 12, 1)[0] & DD)).toEqual([DD, 0, DD]);
    expect(rd(ICR)).toBe(ICR_TXDW | ICR_TXQE);
    // without RS anywhere: sent, nothing written back, no TXDW (the queue empty: TXQE)
    put(BUFS, frames[0]);
    txDesc(3, BUFS, 100, TXD_EOP | TXD_IFCS);
    wr(TDT, 4);
    expect(rd(TDH)).toBe(4);
    expect(get(TX_RING + 16 * 3 + 12, 1)[0]).toBe(0);
    expect(rd(ICR)).toBe(ICR_TXQE);
    await until(() => atPeer.length === 4, 'the fourth frame');
    // one frame over two descriptors (EOP on the second), padded to 60 with PSP
    txDesc(4, BUFS, 20, TXD_IFCS);
    txDesc(5, BUFS + 20, 10, TXD_EOP | TXD_IFCS | TXD_RS);
    wr(TDT, 6);
    await until(() => atPeer.length === 5, 'the gathered frame');
    expect(atPeer[4]).toEqual(Buffer.concat([frames[0].subarray(0, 30), Buffer.alloc(30)]));
  });

  it('transmit statistics: GPTC TPT GOTC TOTC, by size and broadcast, octets with the FCS; a read clears, the high half clears the 64-bit pair', async () => {
    link();
    txRing();
    wr(TCTL, TCTL_EN | TCTL_PSP);
    clearStats();
    const lens = [60, 200, 1514, 1514];
    lens.forEach((len, i) => {
      put(BUFS + 2048 * i, frame(i === 3 ? 'ff:ff:ff:ff:ff:ff' : PEER_MAC, i, len));
      txDesc(i, BUFS + 2048 * i, len, TXD_EOP | TXD_IFCS | TXD_RS);
    });
    wr(TDT, 4);
    const octets = lens.reduce((n, l) => n + l + 4, 0);
    expect([rd(GPTC), rd(TPT), rd(PTC64), rd(PTC255), rd(PTC1522), rd(BPTC)]).toEqual([4, 4, 1, 1, 2, 1]);
    expect(rd(GPTC)).toBe(0); // read clears
    expect(rd(GOTCL)).toBe(octets);
    expect(rd(GOTCL)).toBe(octets); // the low half alone does not clear
    expect(rd(GOTCH)).toBe(0);
    expect(rd(GOTCL)).toBe(0); // the high half's read cleared both
    expect([rd(TOTL), rd(TOTH), rd(TOTL)]).toEqual([octets, 0, 0]);
  });

  it('receive: frames into the ring with length, DD, EOP, IXSM; the FCS appended unless SECRC; RDH follows; RXT0; the counters', async () => {
    link();
    clearStats();
    rxRing(RCTL_BAM);
    rd(ICR);
    const f = frame(NIC_MAC, 7, 100);
    fromPeer(f);
    await until(() => rd(RDH) === 1, 'RDH past the first descriptor');
    expect(rxDesc(0)).toEqual({ length: 104, status: DD | EOP | IXSM, errors: 0 });
    const got = get(BUFS, 104);
    expect(got.subarray(0, 100)).toEqual(f);
    expect(got.readUInt32LE(100)).toBe(crc32(f)); // the FCS, as on the wire
    expect(rd(ICR) & ICR_RXT0).toBe(ICR_RXT0);
    // SECRC: stripped; a short frame arrives padded to 60; a broadcast (BAM)
    wr(RCTL, rd(RCTL) | RCTL_SECRC);
    fromPeer(frame(NIC_MAC, 8, 20));
    fromPeer(frame('ff:ff:ff:ff:ff:ff', 9, 1514));
    await until(() => rd(RDH) === 3, 'two more descriptors');
    expect(rxDesc(1)).toEqual({ length: 60, status: DD | EOP | IXSM, errors: 0 });
    expect(get(BUFS + 2048, 60)).toEqual(Buffer.concat([frame(NIC_MAC, 8, 20), Buffer.alloc(40)]));
    expect(rxDesc(2).length).toBe(1514);
    const octets = 104 + 64 + 1518;
    expect([rd(GPRC), rd(TPR), rd(BPRC), rd(PRC64), rd(PRC127), rd(PRC1522), rd(MPC)]).toEqual([3, 3, 1, 1, 1, 1, 0]);
    expect([rd(GORCL), rd(GORCH), rd(TORL), rd(TORH)]).toEqual([octets, 0, octets, 0]);
  });

  it('receive address filtering: RAL/RAH with AV accept a second address, without AV not; UPE takes every unicast', async () => {
    link();
    rxRing(RCTL_SECRC);
    const second = '52:54:00:00:00:77';
    const m = mac(second);
    wr(RAL(3), m.readUInt32LE(0));
    wr(RAH(3), m.readUInt16LE(4)); // not valid yet
    fromPeer(frame(second, 1, 80));
    fromPeer(frame('ff:ff:ff:ff:ff:ff', 2, 80)); // no BAM: dropped too
    fromPeer(frame(NIC_MAC, 3, 80)); // the marker: in order on the wire
    await until(() => rd(RDH) === 1, 'the marker frame');
    expect(get(BUFS, 6)).toEqual(mac(NIC_MAC));
    wr(RAH(3), (RAH_AV | m.readUInt16LE(4)) >>> 0);
    fromPeer(frame(second, 4, 80));
    await until(() => rd(RDH) === 2, 'the second address');
    expect(get(BUFS + 2048, 6)).toEqual(m);
    wr(RCTL, rd(RCTL) | RCTL_UPE);
    fromPeer(frame('52:54:00:00:00:99', 5, 80));
    await until(() => rd(RDH) === 3, 'another station, promiscuous');
  });

  it('rings: a descriptor with a null buffer address is skipped (DD, no data); RDH stops at RDT; base and length registers keep their valid bits', async () => {
    link();
    rxRing(RCTL_SECRC);
    put(RX_RING + 16, Buffer.alloc(8)); // descriptor 1: no buffer
    fromPeer(frame(NIC_MAC, 1, 80));
    fromPeer(frame(NIC_MAC, 2, 90));
    await until(() => rd(RDH) === 3, 'two frames over three descriptors');
    expect(rxDesc(1)).toEqual({ length: 0, status: DD, errors: 0 });
    expect(rxDesc(2)).toMatchObject({ length: 90, status: DD | EOP | IXSM });
    // the ring full at RDT: frames wait in the NIC's socket for descriptors (as QEMU stops
    // reading its backend), neither taken nor missed
    wr(RDT, 3);
    fromPeer(frame(NIC_MAC, 3, 70));
    await until(() => udpSocket(nicPort)!.rxQueue > 0, 'the frame at the NIC\'s socket');
    const one = udpSocket(nicPort)!.rxQueue;
    fromPeer(frame(NIC_MAC, 4, 70)); // behind it
    await until(() => udpSocket(nicPort)!.rxQueue > one, 'the frame behind it at the NIC\'s socket too');
    expect(rd(RDH)).toBe(3);
    wr(RDT, 5);
    await until(() => rd(RDH) === 5, 'both, once descriptors came back');
    expect(get(BUFS + 2048 * 4, 70)).toEqual(frame(NIC_MAC, 4, 70));
    expect(rd(MPC)).toBe(0);
    wr(RDBAL, 0x1234567f);
    expect(rd(RDBAL)).toBe(0x12345670);
    wr(RDLEN, 0xffffffff);
    expect(rd(RDLEN)).toBe(0xfff80);
    wr(TDH, 0x12345);
    expect(rd(TDH)).toBe(0x2345);
    wr(RADV, 0x12345);
    expect(rd(RADV)).toBe(0x2345);
    wr(RCTL, 0);
  });
});
