// The net class for applications: an interface that a network driver
// registered (native/classes/net), opened by name, sending and receiving raw
// Ethernet frames in batches. Frames never cross between JavaScript and the
// kernel one at a time: send() hands many frames to native code in one call
// (which gives them to the driver in one crossing per batch), and received
// frames arrive as arrays in 'frames' events.
//
//   kernel.addDevice('e1000', { peer: '127.0.0.1:7000', bind: '127.0.0.1:7001' });
//   await kernel.load('e1000');
//   const eth = openNet(kernel, 'eth0');
//   eth.on('frames', (frames) => { ... });      // Buffer[]: whole frames, no FCS
//   eth.send([frame1, frame2]);                  // how many were queued
//   eth.stats(); eth.link; eth.close();
//
// After the driver fails and is restarted, the kernel reopens the interface
// with the configuration set through this handle (MTU, MAC, filters): the
// handle stays usable. Frames handed to the failed driver are lost; frames
// still queued in the kernel are sent by the restarted one. With a shadow
// (the policy's default), openNet while the driver is recovered succeeds too:
// the restore opens the interface for the new handle.
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { onKernelShutdown, type Kernel } from '../kernel.js';
import { native, type NativeAddon, type NativeFault } from '../native.js';
import { ArgCheck, MAX_TIMEOUT_MS } from './args.js';
import { classCall, driverCall, emitApart, withDecision } from './common.js';

export type NetErrorCode = 'ENODEV' | 'ENOTREADY' | 'EIO' | 'EINVAL' | 'ECLOSED' | 'EDRIVERFAILED';

export class NetError extends Error {
  constructor(readonly code: NetErrorCode, message: string) {
    super(message);
    this.name = 'NetError';
  }
}

/** The driver's counters (refreshed through its ndo_get_stats) and the class's. */
export interface NetStats {
  /** From the driver; absent while no driver has the interface. */
  driver?: {
    rxPackets: number; txPackets: number; rxBytes: number; txBytes: number;
    rxErrors: number; txErrors: number; rxDropped: number; txDropped: number;
    multicast: number; collisions: number; rxMissed: number; txTimeouts: number;
    /** The device's own good-packet counters (e1000: GPRC, GPTC). */
    hwRxGood: number; hwTxGood: number;
  };
  kernel: {
    /** Frames the driver passed up (netif_rx) and the class queued for the application. */
    rxDelivered: number;
    /** Frames the driver passed up that were dropped (interface closed, queue full). */
    rxDropped: number;
    /** Frames the driver accepted for sending. */
    txQueued: number;
    /** Frames dropped before the driver: the kernel's queue was full, the interface was closed, the driver refused
     * one, or one queued was longer than the socket buffers of the driver that took the interface since (a fallback's). */
    txDropped: number;
    /** Frames the driver held when it failed. */
    txLost: number;
    /** Times the driver said its ring was full. */
    txBusy: number;
    /** Frames waiting in the kernel for the driver. */
    txWaiting: number;
    /** Frames the driver holds now: accepted, not yet given back (sent or not); lost if it fails. */
    txHeld: number;
    /** How many times a driver registered the interface (1 + recoveries). */
    registrations: number;
  };
}

export interface NetInfo {
  name: string;
  /** The PCI device (e.g. 'e10000'). */
  device: string;
  registered: boolean;
  /** Its driver failed and the shadow keeps it (handles, configuration, frames waiting) for the restarted or fallback driver. */
  restarting: boolean;
  open: boolean;
  carrier: boolean;
  mac?: string;
  permanentMac?: string;
  mtu?: number;
}

/** What configure() changes: each setting optional (undefined: not given), of its type (else EINVAL naming it). */
export interface NetConfig {
  mtu?: number;
  mac?: string;
  promiscuous?: boolean;
  allmulti?: boolean;
  /** Multicast addresses to receive (more than 32: all multicast). */
  multicast?: string[];
  /** The transmit watchdog: a frame with the driver longer than this gets it ndo_tx_timeout (0, the default: the driver's, e1000 5 s). */
  txTimeoutMs?: number;
}

/** Checks of the arguments of a call about interface `name`: EINVAL naming it and the argument. */
const netArgs = (name: string) => new ArgCheck(name, (message) => new NetError('EINVAL', message));

/** `config` as the addon takes it: each setting checked, those given as undefined left out. */
function checkedConfig(name: string, config: unknown): NetConfig {
  const arg = netArgs(name);
  const given = arg.settings(config, 'setting', ['mtu', 'mac', 'promiscuous', 'allmulti', 'multicast', 'txTimeoutMs']);
  const checks: Record<string, (v: unknown, key: string) => unknown> = {
    mtu: (v, key) => arg.uint32(v, key), // the interface checks it against its driver's range
    mac: (v, key) => arg.string(v, key),
    promiscuous: (v, key) => arg.boolean(v, key),
    allmulti: (v, key) => arg.boolean(v, key),
    multicast: (v, key) => arg.array(v, key).map((a, i) => arg.string(a, `${key}[${i}]`)),
    txTimeoutMs: (v, key) => arg.integer(v, key, 0, MAX_TIMEOUT_MS),
  };
  return Object.fromEntries(Object.entries(given).map(([key, v]) => [key, checks[key](v, key)]));
}

/** The UDP wire of an emulated e1000 (its link partner sends to `local`). */
export interface NicWire {
  local: string;
  peer: string | null;
  /** The PHY's link: the cable is in and the driver set link up. */
  link: boolean;
  framesSent: number;
  framesReceived: number;
  framesDropped: number;
}

const handles = new Map<string, Set<NetInterface>>();
let initialised = false;
onKernelShutdown((why) => {
  for (const set of handles.values()) for (const h of [...set]) h.detach(`${h.name}: ${why}`, 'ENODEV');
});

function addon(): NativeAddon {
  const n = native();
  if (!initialised) {
    n.netInit((events) => {
      for (const e of events)
        for (const h of [...(handles.get(e.iface) ?? [])]) { // not those a listener opens
          if (e.frames) emitApart(h, 'frames', e.frames);
          if (e.link !== undefined) emitApart(h, 'link', e.link);
          if (e.detached !== undefined) h.reset(e.detached, e.code, e.resets!, e.fault);
        }
    });
    initialised = true;
  }
  return n;
}

const wrap = <T>(f: () => T): T => classCall(f, NetError);

/**
 * wrap, for a call into the interface's driver (open, configure): when the unshadowed driver failed meanwhile (the
 * addon's EDRIVERFAILED carries the failure's fault), the agent decides now and the error says what it decided.
 */
const wrapDriverCall = <T>(kernel: Kernel, f: () => T): T => driverCall(kernel, f, NetError);

/**
 * An open interface. Events: 'frames' (Buffer[]), 'link' (boolean),
 * 'detached' (NetError): its driver failed without a shadow, or went for good
 * (given up on, or unloaded, leaving the interface unregistered), or the
 * shadow ended the interface (its driver ran 2 s without registering it again),
 * or the restarted driver refused to reopen it (EIO); the handle is closed and its calls fail with that error.
 */
export class NetInterface extends EventEmitter<{ frames: [Buffer[]]; link: [boolean]; detached: [NetError] }> {
  private closed = false;
  private detached: NetError | undefined;

  /** @internal use openNet; `resets`: the interface's reset count at the open (netOpen's) */
  constructor(readonly name: string, private readonly n: NativeAddon, private readonly kernel: Kernel, private readonly resets: number) {
    super();
    this.arg = netArgs(name);
  }

  private readonly arg: ArgCheck; // made once: send is on the data path

  /**
   * @internal the kernel reset the interface (unshadowed failure, shadow's end, driver gone): `resets` is its count
   * after that reset. Handles opened since (the error asked for it) keep going; the reset took the others' users,
   * their error saying what the agent decided for the driver's failure (`fault`) that made the reset, if one did.
   */
  reset(why: string, code: NetErrorCode | undefined, resets: number, fault?: NativeFault): void {
    // a handle closed before (or already detached) reports to no one: it asks the agent for no decision
    if (this.closed || this.resets >= resets) return;
    this.detach(withDecision(this.kernel, why, fault), code);
  }

  /** @internal the handle loses the interface: a reset under it (reset()), or the kernel's shutdown. */
  detach(why: string, code: NetErrorCode = 'EDRIVERFAILED'): void {
    if (this.closed) return;
    this.detached = new NetError(code, why);
    this.close();
    emitApart(this, 'detached', this.detached); // also from kernel.shutdown(), which a listener's throw must not leave half done
  }

  /** Queues frames (whole Ethernet frames without FCS, 14 bytes to MTU + 14) for sending; how many were queued. */
  send(frames: Buffer[]): number {
    this.arg.array(frames, 'send(frames)'); // the frames themselves the addon checks: no per-frame work here
    this.checkOpen();
    if (frames.length === 0) return 0;
    return this.call(() => this.n.netSend(this.name, this.resets, frames));
  }

  /** Link state (carrier) as the driver reported it; false once the handle lost the interface. */
  get link(): boolean {
    if (this.closed) return false; // closed or detached: it asks the interface nothing
    try {
      return this.call(() => this.n.netInfo(this.name, this.resets))?.carrier ?? false;
    } catch (e) {
      if (e === this.detached) return false;
      throw e;
    }
  }

  /** The interface as it is now, whoever has it open (also once this handle lost it: a detached handle's info is the interface's). */
  info(): NetInfo {
    const i = this.n.netInfo(this.name);
    if (!i) throw new NetError('ENODEV', `${this.name}: no such interface`);
    const { users: _u, queued: _q, domain: _d, flags: _f, ...rest } = i;
    return rest;
  }

  stats(): NetStats {
    this.checkOpen();
    return this.call(() => this.n.netStats(this.name, this.resets));
  }

  /**
   * Changes MTU, MAC address or receive filters; kept and replayed after a driver recovery (while a shadowed driver
   * is recovered: recorded, and replayed). EINVAL for a setting of the wrong type, or a value the interface refuses
   * (an MTU outside its driver's range, a MAC that is no unicast address): none of the call's settings is kept. EIO
   * when the driver refuses a setting: that one and those after it are not kept. EDRIVERFAILED when the driver fails
   * in the calls and no shadow replays them: nothing it did not apply is kept; the recovery agent has decided by
   * then, and the message says what it decided for that failure.
   */
  configure(config: NetConfig): void {
    const given = checkedConfig(this.name, config);
    this.checkOpen();
    const r = wrapDriverCall(this.kernel, () => this.unlessReset(() => this.n.netConfigure(this.name, this.resets, given)));
    if (r !== 0) throw new NetError('EIO', `${this.name}: the driver refused the configuration (error ${r})`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    handles.get(this.name)?.delete(this);
    if (!this.detached) this.n.netClose(this.name, this.resets); // a detached handle is no user any more
    this.removeAllListeners(['frames', 'link']);
  }

  /** A detached handle fails with its error, a closed one with ECLOSED: neither reaches an interface opened since. */
  private checkOpen(): void {
    if (this.detached) throw this.detached;
    if (this.closed) throw new NetError('ECLOSED', `${this.name}: closed`);
  }

  /** wrap, for a call about the handle's interface (unlessReset). */
  private call<T>(f: () => T): T {
    return wrap(() => this.unlessReset(f));
  }

  /**
   * Runs f, a call into the addon about the handle's interface. The addon refuses a handle the interface was reset
   * under since its open (its 'detached' event still on the way) with the reset's error and count: the handle is
   * detached with them now. Before, such a call reached the interface a handle opened since had.
   */
  private unlessReset<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      const err = e as Error & { code?: NetErrorCode; resets?: number; fault?: NativeFault };
      if (err.resets === undefined) throw e;
      this.reset(err.message, err.code, err.resets, err.fault);
      throw this.detached ?? e; // a handle closed before the reset stays closed, not detached
    }
  }
}

/**
 * Opens interface `name` (e.g. 'eth0'): its driver must have registered it (ENOTREADY), or the shadow keeps it
 * for its driver's return. While a shadowed driver is recovered (failed, its teardown parking the interface or
 * done, or in an ndo_open this open calls) the open succeeds: it is recorded with the interface, the restore
 * opens the interface for it (ndo_open), and frames sent meanwhile queue; if the shadow then gives up, the
 * handle is detached with the reason. Unshadowed, an open that finds its driver failed is EDRIVERFAILED (saying, if
 * the driver failed in it, whether the recovery agent, which decides at once, restarted it).
 * ENODEV with the reason once the shadow ended it (its driver given up on, or restarted without registering it)
 * or its driver went for good while it had handles, until a driver registers it again.
 */
export function openNet(kernel: Kernel, name: string): NetInterface {
  netArgs('openNet').string(name, 'the interface name');
  const n = addon();
  const info = n.netInfo(name);
  if (!info) {
    const names = n.netList();
    throw new NetError('ENODEV', `${name}: no such interface (interfaces: ${names.join(', ') || 'none'}; devices: ${kernel.devices().map((d) => d.name).join(', ') || 'none'})`);
  }
  const resets = wrapDriverCall(kernel, () => n.netOpen(name));
  const h = new NetInterface(name, n, kernel, resets);
  let set = handles.get(name);
  if (!set) handles.set(name, (set = new Set()));
  set.add(h);
  return h;
}

/** Names of the interfaces drivers have registered. */
export function netInterfaces(): string[] {
  return addon().netList();
}

/** The UDP wire of emulated e1000 device `device` (e.g. 'e10000'), or null. */
export function nicWire(device: string): NicWire | null {
  return addon().nicWire(device);
}

/** Test hook: the emulated NIC's transmitter hangs until its driver resets it (a transmit timeout). */
export function nicHangTx(device: string): boolean {
  return addon().nicHangTx(device);
}

/**
 * Test hook: the next configure() of interface `name`, once its calls into the driver have returned and before it
 * reads their results, fails the driver, as a fault on another of its threads at that moment would
 * (test/net-configure-refused.test.ts).
 */
export function netFailAfterConfigure(name: string): void {
  addon().netFailAfterConfigure(name);
}

/**
 * Test hook: the next registration of interface `name` that reopens it (applications have it open: the replay of
 * their configuration and ndo_open, on the JavaScript thread) waits, before it returns to the driver, until that
 * reopen is over or the driver failed (10 s at most): the reopen crosses into the driver while the registration is
 * still in the kernel (a driver that registers from a work item, after its init). Logs `test-register-held`.
 */
export function netHoldRegister(name: string): void {
  addon().netHoldRegister(name);
}

/** Plugs (true) or pulls (false) the emulated NIC's cable: the driver sees a link change. */
export function nicCable(device: string, up: boolean): boolean {
  return addon().nicCable(device, up);
}

/** A UDP port on loopback that is free now: for an emulated NIC's wire or its link partner. */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
