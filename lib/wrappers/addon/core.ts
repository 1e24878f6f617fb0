// The core addon's functions (native/addon.cc): boot and shut down the
// kernel, load and call drivers, recovery, inspection. lib/kernel.ts calls them.
import type { DriverState, Isolation } from '../enums.js';
import type { LogLine, NativeDomain, NativeFault, NativeObject, NativeTap, ParamValue, TextPatch } from '../../native.js';
import { fn, surface } from './describe.js';

export const core = surface({
  name: 'core',
  source: 'native/addon.cc',
  functions: {
    boot: fn<(isolation: Isolation) => void>('Boots the kernel in this thread with that isolation mode.', ['string']),
    shutdown: fn<() => void>('Unloads every driver and stops the kernel\'s threads.', []),
    load: fn<(path: string, name: string, timeBudgetMs: number, memLimitBytes: number, patches?: TextPatch[],
      params?: Record<string, ParamValue>, env?: Record<string, string>, devices?: string[], dmaBytes?: number, argv?: string[]) => number>(
      'Loads a driver; `patches` are written over its text before module_init, `params` set its module_param variables (EPARAM), `env` is what the POSIX personality\'s getenv returns, `devices` the PCI addresses it holds, `dmaBytes` the size of its DMA memory (default: 16 MiB or memLimitBytes if smaller), `argv` what a program\'s main is given. Its domain id.',
      ['string', 'string', 'number', 'number', 'array?', 'any?', 'object?', 'array?', 'number?', 'array?']),
    checkDriver: fn<(path: string, params?: Record<string, ParamValue>) => void>(
      'Checks the driver file as load would before it loads it (ELF, kernel-API version, symbols, text, `params` against its declarations), without loading it: throws load\'s error.',
      ['string', 'any?']),
    pkruSequenceAt: fn<(code: Buffer) => number>(
      'Where in `code` a WRPKRU, XRSTOR, WRFSBASE or WRGSBASE sequence begins, or -1: the loader refuses a driver, or a patch, that has one.', ['bytes']),
    patchText: fn<(id: number, offset: number, bytes: Buffer, transient: boolean) => void>(
      'Writes an injected fault over the running driver\'s text.', ['number', 'number', 'bytes', 'boolean']),
    unload: fn<(id: number, fallback?: number) => void>(
      'Unloads the driver; `fallback`: the domain of the fallback driver that takes its place: what its shadows parked waits for that driver.',
      ['number', 'number?']),
    program: fn<(id: number) => boolean>('Whether the driver is a program: of the POSIX personality, with a main.', ['number']),
    kill: fn<(id: number, signal: number) => void>(
      'Sends signal `signal` (1 to 64) to the program: its disposition is carried out on a driver thread of its own (ESRCH: not a personality driver, or not running; EAGAIN: no thread left).',
      ['number', 'number']),
    resolve: fn<(id: number, symbol: string) => number>('The address of a function the driver exports (ENOSYM).', ['number', 'string']),
    call: fn<(id: number, fn: number, ...args: (number | bigint | boolean)[]) => number | bigint>(
      'Calls a driver function in its domain with up to six integer arguments.', ['number', 'number']),
    callBatch: fn<(id: number, calls: (number | bigint | boolean)[][]) => (number | bigint)[]>(
      'Many calls [fn, ...args] in one crossing; their results.', ['number', 'array']),
    restart: fn<(id: number) => void>('Restarts the driver.', ['number']),
    fail: fn<(id: number) => number>('Fails the driver on purpose; the failure\'s generation.', ['number']),
    disable: fn<(id: number, why?: string) => void>(
      'Gives up on the driver; `why` ends the error of the requests its shadow kept ("<driver> <why>").', ['number', 'string?']),
    setRecoveryPolicy: fn<(id: number, shadow: boolean, stallMs: number) => void>(
      'What the kernel applies of the driver\'s policy: shadowing, the nannies\' deadline.', ['number', 'boolean', 'number']),
    state: fn<(id: number) => DriverState>('The driver\'s state.', ['number']),
    loadSerial: fn<(id: number) => number>(
      'Which load the driver in the domain is: unique, unlike the domain id; a class failure\'s fault names its `load`.', ['number']),
    domains: fn<() => NativeDomain[]>('Every driver\'s domain.', []),
    objects: fn<(id: number) => NativeObject[]>('The kernel objects the driver holds.', ['number']),
    taps: fn<(id: number) => NativeTap[]>('The driver\'s crossings, per kernel call and class operation.', ['number']),
    log: fn<() => LogLine[]>('The kernel log lines since the last call.', []),
    hostProbe: fn<() => { address: number; value: bigint }>(
      'A 64-bit kernel object in the host-object heap: tests aim wild writes at it and check it survives.', []),
    holdNewThreads: fn<(id: number) => void>(
      'Test hook: the driver\'s new threads wait at their first crossing, past its state check, until its domain has failed and is torn down.', ['number']),
    holdNewIrqThreads: fn<(id: number) => void>(
      'Test hook: the threads of the driver\'s newly requested irq lines wait before their first line until free_irq has given up on them.', ['number']),
    holdSignalHandlers: fn<(id: number) => void>(
      'Test hook: the driver\'s signal handler threads wait before their crossing until each started before them has returned.', ['number']),
    stallNextWait: fn<(id: number, busy: boolean) => void>(
      'Test hook: the driver\'s next wait in a kernel call never ends, deaf to requests to leave, until releaseStalledWaits; busy: nor counts as a wait (the watchdog\'s progress).', ['number', 'boolean']),
    releaseStalledWaits: fn<() => void>('Test hook: every wait stallNextWait stalled goes on.', []),
    holdTeardown: fn<(id: number, afterRelease: boolean) => void>(
      'Test hook: the driver\'s next teardown waits before it releases the driver\'s objects (afterRelease: once it has) until releaseTeardown, 10 s at most.', ['number', 'boolean']),
    releaseTeardown: fn<() => void>('Test hook: the teardown holdTeardown holds goes on.', []),
    holdFailureClaim: fn<(id: number) => void>(
      'Test hook: the driver\'s next failure waits inside its claim, the driver marked failed and its failure generation not moved on yet, until a thread that fails it too waits for it, or releaseFailureClaim, 10 s at most.', ['number']),
    releaseFailureClaim: fn<() => void>('Test hook: the claim holdFailureClaim holds goes on.', []),
    setTeardownWaits: fn<(ms?: number) => void>(
      'Test hook: how long a teardown waits for the threads inside the driver to leave, then for its POSIX threads to stop, each, before it leaves one running; without `ms`, the default (5 s) again.', ['number?']),
    setReregisterLimit: fn<(ms?: number) => void>(
      'Test hook: how long a parked device\'s owner (its restarted driver, or the fallback) may run without registering it again before the shadow ends it; without `ms`, the default (2 s) again.', ['number?']),
    teardownWaitsRunOut: fn<() => number>(
      'Test hook: how many of the teardown\'s (and a driver\'s own free_irq\'s) timed waits for threads ran to their end, since the process started.', []),
    holdNannies: fn<(held: boolean) => void>(
      'Test hook: while held, the watchdog thread runs none of the device classes\' periodic checks (nannies).', ['boolean']),
    recoveryIdle: fn<() => boolean>(
      'Test hook: the recovery thread has no failure queued or in hand: every fault report it had is posted to the fault listener.', []),
    setFaultListener: fn<(listener: (domain: number, fault: NativeFault) => void) => void>('Receives every driver fault.', ['function']),
    signalHandlersOnAltStack: fn<() => number>(
      'Gives every signal handler installed without SA_ONSTACK the flag (isolation \'pkey\': a handler must not run on a domain\'s stack); how many it changed.', []),
    keepSignalHandlersOnAltStack: fn<(keep: boolean) => void>(
      'Isolation \'pkey\', from the boot to the shutdown: keeps libuv\'s SIGCHLD handler installed (a watcher on this thread\'s loop, unref\'d) and gives handlers SA_ONSTACK from the watchdog thread every 50 ms.', ['boolean']),
    signalHandlerOnAltStack: fn<(sig: number) => boolean>('Test hook: whether the signal\'s handler has SA_ONSTACK.', ['number']),
    pkeyUnusableReason: fn<() => string>('\'\' when isolation \'pkey\' can run here, else the reason it cannot.', []),
  },
});
