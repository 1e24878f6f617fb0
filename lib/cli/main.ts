#!/usr/bin/env node
// The `nooks` command line. Each command lives in lib/cli/commands/; this
// file declares them, parses the command line (lib/cli/args.ts), prints help
// and turns errors into a message and exit code 1.
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WARMUP_CROSSINGS } from '../bench/scale.js';
import { withCode } from '../error-code.js';
import { packageRoot } from '../paths.js';
import { faultTypes } from '../inject/index.js';
import { driverClasses, driverLanguages } from '../sdk/new.js';
import { isolations } from '../wrappers/enums.js';
import { parseArgs, usage, UsageError, type CliSpec, type CommandSpec, type FlagSpec } from './args.js';
import { toJson, type Command, type Context, type Flags } from './commands/common.js';
import { build, buildOptions, newCommand, sdk, sdkOptions } from './commands/sdk.js';

/**
 * A command whose module is loaded when it runs, not at every start: the report brings a DOM and a plotting library,
 * the demo, apps, campaigns, tables and injection their own (a QEMU guest reading the package over 9p took 40 s to start any
 * command, and `nooks exec` there took twice a plain Node script's start while it loaded every command).
 */
function later<K extends string, M extends Record<K, Command>>(load: () => Promise<M>, name: K): Command {
  return async (ctx) => (await load())[name](ctx);
}

const flags = [
  { name: 'json', help: 'Print the result as JSON on stdout, for programs' },
  {
    name: 'isolation', value: 'mode', choices: ['auto', ...isolations],
    help: 'Driver isolation; auto (the default) picks pkey if the CPU has protection keys, else mprotect',
  },
  { name: 'time-budget', value: 'ms', help: 'Watchdog: the longest one call may stay in the driver (demo: 300; run: the policy\'s, 2000)' },
  { name: 'policy', value: 'file', help: 'Recovery policy file (.yaml, .yml or .json)' },
  { name: 'times', value: 'n', help: 'How many recoveries to request (default 1)' },
  { name: 'runs', value: 'n', help: 'Runs per measurement; the median run is reported (bench xpc: default 7; bench scale|net|block|sound|serial|driver: rounds of every mode in turn, default 1)' },
  { name: 'iters', value: 'n', help: 'Operations per run (default 20000)' },
  { name: 'seconds', value: 's', help: 'Measuring time per isolation mode of bench net|block|sound|serial|driver (default 2; fractions allowed), per point of bench scale (default 0.5)' },
  { name: 'seed', value: 'n', help: 'The fault\'s seed: the same seed injects the same fault (inject: random, printed; campaign: 1)' },
  { name: 'type', value: 'fault', choices: faultTypes, help: 'Only this fault type (default: any, chosen by the seed)' },
  { name: 'site', value: 'function', help: 'Only this function of the driver' },
  { name: 'persistent', help: 'The fault stays across recoveries, like a bug in the binary' },
  { name: 'transient', help: 'The fault is removed at recovery (the default)' },
  { name: 'trials', value: 'n', help: 'campaign: faults per driver, each run in every mode (default 400); inject: n faults, in the one mode' },
  { name: 'jobs', value: 'n', help: 'Trials run at once, each a child process (default 1)' },
  { name: 'out', value: 'path', help: 'campaign, inject --trials: the results file, JSON lines, appended to and resumed from (campaign: default campaign.jsonl); campaign merge: the merged file; report: its directory (default report)' },
  { name: 'fresh', help: 'Measure again instead of reading the results the report kept' },
  { name: 'quick', help: 'Short measurements: a first look in about a minute' },
  { name: 'driver', value: 'driver', help: 'campaign: only this driver: a built-in one under its application, or with --workload any driver (a path to a .so)' },
  { name: 'workload', value: 'module', help: 'inject, campaign: the .mjs module whose default export exercises the driver and says whether its work was correct' },
  { name: 'shard', value: 'i/n', help: 'campaign: run only the i-th of n disjoint slices of the plan (nooks campaign merge puts them together)' },
  { name: 'force', help: 'pci bind: take a device the running system uses (an interface that is up, a mounted disk); new: overwrite' },
  { name: 'class', value: 'class', choices: driverClasses, help: 'new: the device class of the driver (default plain: no device)' },
  { name: 'program', help: 'new: a driver that is a program (main, options, signals, a poll loop on its device), run with nooks exec' },
  {
    name: 'device', value: 'device', repeatable: true,
    help: 'exec: a device the program gets: an emulated one of that kind (e1000, uart16550, blk, pcm, testdev) with its options as QEMU writes them (blk,image=disk.img), or a real one\'s PCI address, bound with nooks pci bind; each in the order given',
  },
  { name: 'lang', value: 'language', choices: driverLanguages, help: 'new: the language of the driver: c (the default) or c++' },
  { name: 'version', short: 'V', help: 'Print the version of nooks' },
] as const satisfies readonly FlagSpec[];

type FlagName = (typeof flags)[number]['name'];

interface CommandDef extends CommandSpec {
  readonly run: Command;
  /** The flags this command takes (--help is always there). */
  readonly flags: readonly FlagName[];
  /** What a flag means for this command, where its general help speaks of other commands too. */
  readonly flagHelp?: Partial<Record<FlagName, string>>;
  /** More about the command, for `nooks <command> --help`. */
  readonly details: readonly string[];
  readonly examples: readonly [command: string, what: string][];
}

export const commands: readonly CommandDef[] = [
  {
    name: 'demo',
    help: 'Fault a misbehaving driver in nine ways beside a healthy one; show detection and recovery',
    run: later(() => import('./commands/demo.js'), 'demo'),
    flags: ['json', 'isolation', 'time-budget'],
    flagHelp: { 'time-budget': 'Watchdog: the longest one call may stay in the driver (default 300)' },
    details: [
      'Boots a kernel, loads ticker (well-behaved: a 10 ms timer, work items, an interrupt) and crashy',
      '(faults on demand), each in its own protection domain, then makes crashy fail: null_deref, wild_write',
      '(aimed at a kernel object, the canary), stack_overflow, illegal_instruction, divide_by_zero, double_free,',
      'bad_pointer_arg, infinite_loop and deadlock (both ended by the watchdog after --time-budget, default 300 ms).',
      'After each fault it shows the fault kind and message, the recovery time, that crashy answers add(2,3) = 5',
      'again, that the canary is intact and that ticker kept ticking; then a table and a verdict.',
      'Then each device class\'s application (db, echo, player, recorder, net-transfer) on its emulated device, a line',
      'each with what it reported (its error first; … where the line could not hold it all; --json has it whole), and',
      'db, echo, player and net-transfer again with their drivers failing twice mid-run under shadow drivers.',
      'With --isolation none only the harmless part runs: without isolation the first fault would kill the process.',
      'Exit status 0 when every fault was detected and recovered and every application succeeded, 1 otherwise.',
    ],
    examples: [
      ['nooks demo', 'the best isolation this CPU offers'],
      ['nooks demo --isolation mprotect', 'page protection flipped at each crossing'],
      ['nooks demo --isolation process', 'each driver in a host process of its own'],
      ['nooks demo --json', '{ isolation, rows: [...], tickerTicks, canaryIntact }'],
    ],
  },
  {
    name: 'new',
    args: ['name'],
    help: 'Start a driver of your own: a commented driver, its test, a fault-injection workload and a bench module',
    run: newCommand,
    flags: ['json', 'class', 'program', 'lang', 'force'],
    flagHelp: {
      force: 'Overwrite the files if they exist', class: 'The device class of the driver (default plain: no device)',
      program: 'A driver that is a program, as UIO drivers are: main, getopt, signal handlers, a poll loop (no --class; C or C++)',
      lang: 'The language of the driver: c (the default) or c++ (<name>/<name>.cc)',
    },
    details: [
      'Writes <name>/<name>.c (a small driver with comments that explain the kernel API it uses: for --class block,',
      'net, serial or sound a driver of that class for its emulated device), <name>/<name>.test.mjs (tests with',
      'node:test that load it and exercise it), <name>/workload.mjs (what nooks inject and nooks campaign run',
      'against it) and <name>/bench.mjs (what nooks bench driver runs on it: for a class, the load of nooks bench',
      '<class> on the driver\'s own device), and adds build:<name>, test:<name> and bench:<name> scripts to the',
      'package.json of the working directory.',
      'Refuses to overwrite files unless --force. <name> names C symbols: lower-case letters, digits and _.',
      '--lang c++: <name>/<name>.cc instead, the same driver in C++ (a class, RAII, new and delete; every class).',
      '--program: <name>/<name>.c is a program (docs/drivers.md, Programs): main parses its options, handles SIGINT and',
      'SIGTERM, drives an e1000 through UIO (an emulated one from nooks exec --device e1000: no hardware needed) and',
      'prints a line per interrupt; built with nooks build --posix, run with nooks exec; its test and workload, no bench.',
      'With --lang c++ the same program in C++ (<name>/<name>.cc).',
    ],
    examples: [
      ['nooks new hello', 'a driver with no device: calls, buffers, strings, a deliberate bug'],
      ['nooks new hello --lang c++', 'the same in C++ (docs/drivers.md, C++ drivers)'],
      ['nooks new mydisk --class block', 'a block driver for the emulated disk'],
      ['nooks new mydisk --class block --lang c++', 'the same in C++: a class for the disk, RAII for its rings'],
      ['nooks new mynic --class net --lang c++', 'an e1000 driver in C++: a class for the adapter, its rings made at open, freed at stop'],
      ['nooks new --program mydrv', 'a program: then nooks build --posix mydrv/mydrv.c and nooks exec build/mydrv.so --device e1000'],
    ],
  },
  {
    name: 'build',
    args: ['sources...'],
    passThrough: 'after-name',
    help: 'Compile and link a driver outside this package exactly as the built-in drivers are',
    run: build,
    ownOptions: buildOptions,
    flags: ['json'],
    details: [
      'nooks build <sources...> [-I dir] [-D name[=value]] [-o out.so]: one compiler run ($CC, default cc) with the',
      'flags of the built-in drivers (freestanding C, no libc, hidden symbols), the package\'s headers (<nooks/kapi.h>',
      'and the class headers) and the driver runtime linked in. The driver is stamped with the kernel-API version;',
      'a kernel of another version refuses it (EABI). The default output is <first source>.so in the working directory.',
      'Compiler warnings go to stderr; errors fail the build with the compiler\'s output (EBUILD), and so does a driver',
      'the loader would refuse (a libc call outside the POSIX personality: ELIBC; its error, the file removed). For make or CMake,',
      'nooks sdk prints the same flags. --posix: unmodified C written against libc (<stdio.h>, <stdlib.h>...), built',
      'against the system\'s headers with the POSIX personality linked in (docs/drivers.md).',
      'C++ sources (.cc .cpp .cxx), alone or beside C ones, either kind: each compiled first by $CXX (default g++),',
      '-std=gnu++17 without exceptions or RTTI, and linked with the rest and the C++ runtime (docs/drivers.md, C++ drivers).',
    ],
    examples: [
      ['nooks build hello/hello.c -o build/hello.so', 'then kernel.load(\'build/hello.so\')'],
      ['nooks build mydrv.cc util.c -o build/mydrv.so', 'a driver in C++ and C'],
      ['nooks build --posix mydrv.c -o build/mydrv.so', 'a driver written against libc'],
      ['nooks build src/a.c src/b.c -I include -D DEBUG=1 -o out/drv.so', 'several sources'],
    ],
  },
  {
    name: 'sdk',
    args: ['options...?'],
    passThrough: 'after-name',
    help: 'Print the driver build flags and headers, for make or CMake (--cflags, --ldflags, --posix-cflags, --posix-ldflags, --cxxflags, --cxx-ldflags, --include-dir)',
    run: sdk,
    ownOptions: sdkOptions,
    flags: ['json'],
    details: [
      'Each option asked for is printed on a line of its own; without options, all of them, named. The --posix ones',
      'are for a driver written against libc (the POSIX personality, docs/drivers.md).',
      'In a Makefile:  CFLAGS = $(shell npx nooks sdk --cflags)   LDFLAGS = $(shell npx nooks sdk --ldflags)',
      '  drv.so: drv.c ; $(CC) $(CFLAGS) $< -o $@ $(LDFLAGS)',
      'C++ sources: $(CXX) $(nooks sdk --cxxflags) -c drv.cc, then $(CC) drv.o -o drv.so $(nooks sdk --cxx-ldflags)',
      '(--posix-cxxflags and --posix-cxx-ldflags for a driver written against libc).',
    ],
    examples: [
      ['nooks sdk', 'everything'],
      ['cc $(nooks sdk --cflags) drv.c -o drv.so $(nooks sdk --ldflags)', 'what nooks build runs'],
    ],
  },
  {
    name: 'bench',
    args: ['suite', 'device...?'],
    help: 'Measure every isolation mode: crossing costs (xpc), crossings with 1-16 threads (scale), a device class\'s throughput (net, block, sound, serial, pci) or your own driver\'s (driver)',
    run: later(() => import('./commands/bench.js'), 'bench'),
    flags: ['json', 'runs', 'iters', 'seconds', 'policy', 'driver', 'workload', 'isolation'],
    flagHelp: {
      driver: 'driver: the driver measured (a path to a .so, or a built-in one\'s name)',
      workload: 'driver: the .mjs module whose start() puts the load on it (docs/results.md)',
      isolation: 'driver: only none (what relative compares with) and this mode; auto: pkey if the CPU has protection keys, else mprotect (default: every mode)',
    },
    details: [
      'bench xpc: for each isolation mode (none, pkey, mprotect, process) in one run: boot it, load the null driver and',
      'measure in C++ loops a host -> driver -> host round trip around an empty function and one kernel call from',
      'inside the driver (an upcall), then one drv.call() from JavaScript; shut down; next mode. Modes the CPU lacks',
      '(pkey without protection keys) are listed as unsupported, with the reason. Then the round trip and the kernel call',
      'again with 4 and 16 null drivers loaded (copies of it), with the mprotect calls each makes; and, under mprotect, a bare',
      'pair of mprotect calls on the pages a crossing flips (mprotectPairCycles), the floor of that mode\'s crossing.',
      '"Cycles" are TSC ticks (the constant-rate time-stamp counter, rdtsc), not core clock cycles; ns are',
      'converted with the TSC rate measured against CLOCK_MONOTONIC. Each figure is the median of --runs runs.',
      '',
      'bench scale: for each isolation mode: 1, 2, 4, 8 and 16 kernel threads crossing at once into an empty driver',
      `function (C++ loops) for --seconds per point (default 0.5), after ${WARMUP_CROSSINGS} uncounted crossings per thread, in two`,
      'shapes: each thread into a null driver of its own (own-driver: as many loaded as threads) and all into one',
      '(one-driver). With --runs n, n rounds of every mode in turn; per point, its median run. With --json: { cpu,',
      'cores, seconds, runs, modes: [{ isolation, supported, shape, points: [{ threads, crossingsPerSec, perThread,',
      'runs: [{ crossingsPerSec, perThread }, ...each run in round order] }] }] } (a mode the machine cannot run:',
      '{ isolation, supported: false, reason }).',
      '',
      'bench net|block|sound|serial: for each isolation mode in one run: boot it, add the class\'s emulated device,',
      'load its driver, run the workload for --seconds (after a 0.25 s warm-up), shut down; next mode. With --runs n,',
      'n rounds of every mode in turn (so that drift hits every mode alike). Per mode, of its median run by throughput:',
      'throughput (what completed, per second), crossings/s into the driver\'s domain, CPU seconds of the whole',
      'process (and of the driver\'s host process under isolation process); relative = throughput / the none',
      'throughput of the same round, the median of the rounds\' ratios. Then where each unit\'s cost goes, per unit',
      '(op, frame, byte): crossings into the driver, request calls (submit, ndo_start_xmit, ...), units per crossing',
      'that carried requests (the batching achieved), kernel calls (n/a under none: uncounted there; and the most',
      'frequent by name), mprotect calls (under mprotect), waits on the host process that spun out and slept (under',
      'process), interrupts, voluntary and involuntary context switches,',
      'CPU µs (docs/results.md says how to read them). The workloads (one per suite):',
      '  net     net-send: 64-byte frames through eth0 in batches of 256, to a second emulated NIC that drops them',
      '  block   block-random-4k: random 4 KiB reads and writes, 128 in flight, on a temporary image file',
      '  sound   sound-playback: PCM playback at 192 kHz stereo (real time: compare CPU and crossings)',
      '  serial  serial-send: bytes through the UART to a pty at 115200 baud (real time: compare CPU and crossings)',
      '  pci     pci-net-send: net-send on a real 82540EM-family NIC: bench pci <address> uio|vfio (bound first with',
      '          nooks pci bind; root). Where there is none: nooks guest bench pci runs it on QEMU\'s e1000 in a guest',
      'With --json: one object per workload, { workload, note, seconds, runs, modes: [{ isolation, throughput, unit,',
      'crossingsPerSec, cpuSeconds, relative, breakdown: { crossingsPerUnit, requestCallsPerUnit, unitsPerRequestCrossing,',
      'kernelCallsPerUnit, kernelCallsPerUnitByName, mprotectCallsPerUnit, spinsRunOutPerUnit, interruptsPerUnit, voluntarySwitchesPerUnit,',
      'involuntarySwitchesPerUnit, cpuUsPerUnit }, runs: [each run\'s figures, in round order] }, ...] } (an array of them',
      'for a suite with several workloads).',
      '',
      'bench driver --driver <x.so> --workload <bench.mjs>: your own driver under your own load, measured as the class',
      'benches measure theirs (the same rounds, figures and JSON; workload: <driver>/<module>). The module exports',
      'start({ kernel, driver, dir }), called in each mode once the driver is loaded: it starts the load and returns',
      '{ done(): units completed so far, stop(): ends the load }; unit, what done() counts (default \'units\'); and',
      'optionally load({ kernel, isolation }), the driver\'s load options (devices, env, params, dmaBytes) as a campaign',
      'workload\'s load gives them. --isolation m: only none (what relative compares with) and m. docs/results.md',
      '("Measuring your own driver") has a module to start from and how to keep JavaScript out of the measurement.',
    ],
    examples: [
      ['nooks bench xpc', 'a table'],
      ['nooks bench net --json', '{ workload: "net-send", modes: [...] }'],
      ['nooks bench xpc --json', '{ cpu, pku, wrpkruPairCycles, modes: [...] }'],
      ['nooks bench xpc --runs 15 --iters 100000', 'steadier figures, slower'],
      ['nooks bench scale --json', '{ cpu, cores, modes: [{ isolation, shape, points }] }'],
      ['nooks bench scale --runs 3', 'the median of three rounds per point, every mode in each'],
      ['nooks bench block --seconds 0.5', 'a quicker, rougher look'],
      ['nooks bench block --seconds 2 --runs 3', 'the median of three rounds, every mode in each'],
      ['nooks bench sound', 'CPU time and crossings of real-time playback'],
      ['nooks bench block --policy noshadow.yaml', 'the same without shadow drivers (default: { shadow: false })'],
      ['nooks bench driver --driver x.so --workload bench.mjs', 'your own driver under your load, every mode'],
    ],
  },
  {
    name: 'app',
    args: ['app?', 'options...?'],
    passThrough: 'after-first-argument',
    help: 'Run one of the applications (block, serial, sound, net) on its emulated device; list them',
    run: later(() => import('./commands/app.js'), 'app'),
    flags: ['json'],
    details: [
      'Without <app>: the applications, their device class and what each does (--json: with their usage).',
      'With <app>: boots a kernel (isolation auto) with the application\'s emulated device, loads its driver and',
      'runs it; everything after <app> is the application\'s own options (`nooks app <app> --help` lists them).',
      'The outcome is one JSON line on stdout. Exit status 0 when it says ok, 1 when not, 2 for bad options.',
      'The same programs run as `node dist/lib/apps/<app>.js [options]`.',
    ],
    examples: [
      ['nooks app', 'the list'],
      ['nooks app db --image /tmp/db.img --rounds 4', 'random record writes and flushes, every record verified'],
      ['nooks app echo --lines 5', 'an echo session over a pty pair'],
      ['nooks app player --out /tmp/tone.wav --seconds 0.5', 'a tone through the PCM driver into a WAV file'],
      ['nooks app net-peer --bind 127.0.0.1:7000 --out /tmp/copy', 'the link partner, in one terminal...'],
      ['nooks app net-transfer --file /etc/services --peer 127.0.0.1:7000', '...and the sender, in another'],
    ],
  },
  {
    name: 'table',
    args: ['which'],
    help: 'table apps: each application with its driver faulting, without isolation, with Nooks, with shadow drivers',
    run: later(() => import('./commands/table.js'), 'tableCommand'),
    flags: ['json'],
    details: [
      'After Table 3 of the shadow-driver paper. For each application (db on block, echo on serial, player on sound,',
      'net-transfer on net) and each configuration: none (no isolation), nooks (isolated, restarted, no shadow) and',
      'shadow (isolated, restarted, the class\'s shadow keeps the application\'s state), one run in a child process',
      'whose driver is made to fault twice, as it starts and at a random moment (a NULL dereference on its path).',
      'The outcome is the application\'s own verification: continued, malfunction (an error, wrong output, a stall),',
      'or crash (the process died). --json: { rows: [{ app, class, config, outcome, failures, recoveryMs, detail? }] }.',
    ],
    examples: [
      ['nooks table apps', 'the table'],
      ['nooks table apps --json', 'the rows as JSON'],
    ],
  },
  {
    name: 'inject',
    args: ['driver', '-- argv...?'],
    help: 'Inject one fault into a driver (binary or targeted, from a seed) while its application or your workload runs; show what happened',
    run: later(() => import('./commands/inject.js'), 'inject'),
    flags: ['json', 'isolation', 'seed', 'type', 'site', 'persistent', 'transient', 'workload', 'trials', 'jobs', 'out', 'fresh'],
    flagHelp: {
      seed: 'The fault\'s seed: the same seed injects the same fault (default: random, printed)',
      trials: 'n faults from --seed, each one trial in the one mode',
      fresh: 'With --trials --out: start the file over (one that holds another plan\'s trials is refused otherwise)',
      out: 'With --trials: the results file, JSON lines, appended to and resumed from',
      workload: 'The .mjs module whose default export exercises the driver and says whether its work was correct',
    },
    details: [
      '<driver> is blk, uart16550, pcm or e1000: its application (db, echo, player, net-transfer) runs in a child process',
      '(so that a crash without isolation is observed), with shadow drivers; the driver is loaded with the fault in its',
      'binary (one through a driver\'s hook: armed as the application starts) and unloaded at the end, so that faults in',
      'module_init, probe, remove and module_exit show too (a failed load is tried again, without a transient fault). Any other driver (a path: it contains / or ends in .so) runs under',
      '--workload <module.mjs>, whose default export async ({ kernel, driver, trial, seed }) exercises the driver,',
      'loaded and faulted, and returns true, false or { ok, detail? }; its export load ({ kernel, trial, seed }), if any, returns',
      'the options the driver is loaded with (devices, env, params, a program\'s argv: docs/fault-injection.md); a driver that calls no device class',
      'is restarted on failure with nothing to shadow (its mode: the isolation alone). A driver that is a program (main)',
      'gets the arguments after -- as nooks exec gives them (argv[0] its name), at its load and each restart, where the',
      'workload\'s load sets no argv (a word before -- is refused); a driver that is no program is refused them. Binary faults (SWIFI, as the Nooks injector): a random',
      'instruction of the driver\'s own code (boundaries from objdump -d) gets flip-bit, nop, corrupt-register,',
      'invert-branch, remove-init, corrupt-pointer, off-by-one or alloc-fail. Targeted faults (the shadow-driver paper\'s',
      'bug classes and lkdtm): null-deref (the driver\'s own hook), missing-init, endless-loop, buffer-overrun, panic,',
      'loop, stack-overflow, corrupt-stack, write-after-free, overwrite-allocation, at the entry of a random function.',
      'Prints the seed, the site and bytes, the faults nooks detected, the recoveries and the application\'s verdict.',
      '--json: { fault, app, isolation, outcome, hostCrashed, failures, faultKinds, recoveryMs, detail? }.',
      'With --trials n: n faults (from --seed, as a campaign plans them), each one trial in this one mode, a line each',
      'and the sums; --out keeps the trials as JSON lines. --json: { mode, records, summary }.',
    ],
    examples: [
      ['nooks inject blk --seed 7', 'a random fault type at a random site, reproducible'],
      ['nooks inject build/hello.so --workload hello/workload.mjs --trials 50', '50 faults in your own driver'],
      ['nooks inject build/prog.so --workload prog/workload.mjs -- -d uio0', 'your program, main given -d uio0'],
      ['nooks inject e1000 --type corrupt-pointer --persistent', 'a corrupted address that stays across restarts'],
      ['nooks inject pcm --type panic --site pcm_pointer --isolation none', 'without isolation: the host dies'],
    ],
  },
  {
    name: 'campaign',
    args: ['action?', 'files...?'],
    help: 'Fault-injection campaign: each application\'s driver (or yours), N faults, each in every mode; the papers\' figures',
    run: later(() => import('./commands/campaign.js'), 'campaign'),
    flags: ['json', 'trials', 'seed', 'type', 'persistent', 'jobs', 'out', 'fresh', 'driver', 'workload', 'shard'],
    flagHelp: {
      seed: 'The campaign\'s seed: each fault\'s seed comes from it (default 1)',
      trials: 'Faults per driver, each run in every mode (default 400)',
      out: 'The results file, JSON lines, appended to and resumed from (default campaign.jsonl); campaign merge: the merged file',
      fresh: 'Start the --out file over (one that holds another plan\'s trials is refused otherwise)',
      workload: 'The .mjs module whose default export exercises --driver and says whether its work was correct',
      driver: 'Only this driver: a built-in one under its application, or with --workload any driver (a path to a .so)',
      shard: 'Run only the i-th of n disjoint slices of the plan (nooks campaign merge puts them together)',
    },
    details: [
      'For each application (db, echo, player, net-transfer) and its driver: --trials faults (default 400, from --seed),',
      'each run in every mode (none; mprotect, process and, with protection keys, pkey; each without and with shadow drivers),',
      'each run one trial in a fresh child process: the driver loaded with the fault and unloaded at the end, the application\'s',
      'own verification judging the outcome. Per trial (one JSON line appended to --out as it ends): fault type and site,',
      'whether a failure showed, host crashed, detected (trap, watchdog, bad-call, nanny, init, exit), recovered, each',
      'recovery\'s time (recoveryMs), outcome.',
      'Started again with the same --out, it runs only what the file lacks; a file of another plan (other flags, driver build,',
      'or fault planner version) is refused: --fresh starts it over. Faults are transient unless --persistent.',
      '--driver <path.so> --workload <module.mjs>: your driver under your workload module instead (as nooks inject);',
      'one that calls no device class has nothing to shadow: it runs in each isolation once, without +shadow modes.',
      'A driver that is a program gets the arguments after -- as its argv (as nooks exec), where the workload\'s load sets',
      'none; the plan records them: a file of the same campaign with other arguments is another plan\'s.',
      '--shard i/n runs the i-th of n disjoint slices of the plan (same seeds: the shards together are the campaign);',
      'nooks campaign merge <shard.jsonl>... --out <all.jsonl> checks that they are one plan with no trial missing or',
      'twice (each file records the plan: drivers, seeds, modes, trials, a hash) and prints the figures.',
      'Prints the Nooks paper\'s Figure 6 (system crashes) and Figure 7 (non-fatal failures) and the shadow-driver',
      'paper\'s Figure 7 (detected vs recovered per application) as tables, then each mode\'s sums and recovery time (median,',
      'max). --json: { trials, byMode: { <mode>: { trials, hostCrashes, visibleFailures, detected, detectedBeforeVerdict,',
      'detectedBeforeVerdictOf, recovered, appContinued, recoveryTime?: { recoveries, medianMs, maxMs } } } } (detectedBeforeVerdict:',
      'detected while the application worked, not only at the unload after its work was judged, of detectedBeforeVerdictOf,',
      'the detected trials that record it: one from a file from before it was kept counts in neither).',
    ],
    examples: [
      ['nooks campaign --trials 20', 'a quick look: 20 faults per driver, in every mode'],
      ['nooks campaign --driver build/hello.so --workload hello/workload.mjs --trials 50', 'your driver, in every mode'],
      ['nooks campaign --driver build/prog.so --workload prog/workload.mjs -- -d uio0', 'your program, main given -d uio0'],
      ['nooks campaign --out full.jsonl', '400 faults per driver; interrupt it and run it again to resume'],
      ['nooks campaign --trials 50 --type corrupt-pointer --json', 'one fault type, the summary as JSON'],
      ['nooks campaign --shard 2/8 --out part2.jsonl', 'the second of eight slices (on another machine)'],
      ['nooks campaign merge part*.jsonl --out all.jsonl', 'the slices checked and put together'],
    ],
  },
  {
    name: 'report',
    help: 'Write report/index.html: crossing costs, relative performance, faults and recovery, beside the papers\' numbers',
    run: later(() => import('./commands/report.js'), 'report'),
    flags: ['json', 'out', 'fresh', 'quick'],
    flagHelp: { out: 'The report\'s directory (default report)' },
    details: [
      'Runs the benchmarks and experiments, each as `nooks <command> --json` in a child process (bench xpc, bench scale,',
      'bench net, block, sound and serial, table apps, a campaign of 25 faults per driver), keeps their results in',
      '<out>/data/ and writes <out>/index.html with SVG charts (Observable Plot) and the papers\' numbers beside ours',
      '(Nooks XPC ~3000 cycles, relative performance 0.44-1.0, 317 -> 4 system crashes in 2000 trials, 65 % of failures',
      'detected by shadow drivers, recovery ~5 s e1000, ~4 s IDE, ~0.1 s sound). Results already in <out>/data/ are read,',
      'not measured again, unless --fresh; a bigger campaign run with --out <out>/data/campaign.jsonl is read whole. A',
      'full run takes about 8 minutes; --quick about 1. Exit status 1 if a part failed (the page says which and why).',
      '--json: { page, sections: [{ id, title, cached, error? }] }.',
    ],
    examples: [
      ['nooks report', 'measure what is missing, write report/index.html'],
      ['nooks report --fresh --out /tmp/r', 'measure everything again, elsewhere'],
      ['nooks report --quick --json', 'a short run; where the page is'],
    ],
  },
  {
    name: 'run',
    args: ['driver', 'function', 'args...?'],
    help: 'Load a driver, call one of its exported functions, print the result or the fault',
    run: later(() => import('./commands/run.js'), 'run'),
    flags: ['json', 'isolation', 'time-budget', 'policy'],
    flagHelp: { 'time-budget': 'Watchdog: the longest one call may stay in the driver (default: the policy\'s, 2000)' },
    details: [
      '<driver> is a name from build/drivers (crashy, null, ticker) or a path to a .so. <function> must be marked',
      'NOOKS_EXPORT in the driver. Arguments: up to six integers (decimal or 0x hex; put negative numbers after --),',
      'true, false, or @probe for the address of the kernel canary object.',
      'If the call faults, the fault is printed and the recovery policy applied (restart by default).',
      'Exit status 0 when the call returned, 2 when it faulted, 1 on any other error.',
      'With --isolation none nothing contains a fault: a faulting driver kills the process.',
    ],
    examples: [
      ['nooks run crashy add 2 3', 'prints 5'],
      ['nooks run crashy null_deref', 'a segmentation fault, contained and recovered'],
      ['nooks run crashy wild_write @probe', 'a write over the kernel canary, stopped'],
      ['nooks run crashy infinite_loop --time-budget 100', 'ended by the watchdog after 100 ms'],
      ['nooks run ticker sum -- 1 -2 3 4 5 6', 'negative arguments after --'],
    ],
  },
  {
    name: 'exec',
    args: ['driver', '-- argv...?'],
    help: 'Run a driver that is a program (it defines main) as a shell runs a program, isolated and restarted',
    run: later(() => import('./commands/exec.js'), 'exec'),
    flags: ['isolation', 'policy', 'device', 'time-budget'],
    flagHelp: {
      'time-budget': 'Watchdog: the longest a thread of the program may run without waiting (default: the policy\'s, 2000)',
      device: 'A device the program gets: an emulated one of that kind (e1000, uart16550, blk, pcm, testdev) with its options as QEMU writes them (blk,image=disk.img), or a real one\'s PCI address alone, bound with nooks pci bind; each in the order given',
    },
    details: [
      '<driver> is a driver built with nooks build --posix that defines main (docs/drivers.md, Programs): its main',
      'runs in a protection domain with the arguments after -- (argv[0] is the driver\'s name; a word before -- is refused). Its stdout lines',
      'are printed on stdout as they come, its stderr lines and the kernel\'s about it on stderr, with its faults and',
      'restarts (a fault, or an exit status other than 0, restarts it from main by the policy).',
      '--device gives it a device (its sysfs directory, /dev/uio<N>, its VFIO group): none without it. Several --device',
      'give it several, in the order given: an emulated one takes the next free PCI slot, so the first has the lowest',
      'address and uio<N>; nooks prints each device\'s address and node before main starts.',
      'A program that polls its device without ever waiting (no poll, sleep or blocking read) needs a --time-budget',
      'as long as its run: the watchdog ends a thread that runs longer than that without waiting (timeout).',
      'Ctrl-C (SIGINT) and SIGTERM are sent on to the program (its handlers run); a second one stops it.',
      'Exit status: the program\'s (128+n when a signal n killed or stopped it); 1 when the policy disabled it or nooks failed.',
    ],
    examples: [
      ['nooks exec ./uio-drv.so --device e1000 -- -v', 'on an emulated e1000, its options after --'],
      ['nooks exec ./blk-drv.so --device blk,image=disk.img', 'on an emulated disk over disk.img'],
      ['nooks exec ./two.so --device e1000 --device uart16550', 'two devices: a NIC (uio<N>) and a UART (uio<N+1>)'],
      ['nooks exec ./uio-drv.so --device 0000:03:00.0', 'on a real device bound with nooks pci bind 0000:03:00.0 uio'],
      ['nooks exec ./uio-drv.so --isolation process', 'in a host process of its own'],
      ['nooks exec ./uio-drv.so --policy policy.yaml', 'restarted within the limits of a policy file'],
      ['nooks exec ./poll-drv.so --device 0000:03:00.0 --time-budget 60000 -- 0000:03:00.0', 'a program that polls without waiting, for up to a minute'],
    ],
  },
  {
    name: 'recover',
    args: ['driver'],
    help: 'Request explicit recoveries of a driver; show each one\'s time and objects before/after',
    run: later(() => import('./commands/recover.js'), 'recover'),
    flags: ['json', 'isolation', 'times', 'policy'],
    details: [
      'Loads the driver, then --times times fails it on purpose (drv.recover()): the kernel tears the domain down',
      '(masks its interrupts, unwinds its threads, releases every object it holds) and the recovery policy acts',
      '(restart: reset its data from the copy taken at load and re-run its init).',
      'Without --policy every requested recovery is allowed; with a policy file its limits apply, so you can see',
      'the agent give up (disable) after maxFailures. Exit status 0 when the driver is running at the end, 1 otherwise.',
    ],
    examples: [
      ['nooks recover ticker', 'one recovery'],
      ['nooks recover crashy --times 5 --json', 'five, as JSON'],
      ['nooks recover ticker --times 10 --policy policy.yaml', 'with the limits of a policy file'],
    ],
  },
  {
    name: 'domains',
    args: ['drivers...?'],
    help: 'Load drivers and show their protection domains and the kernel objects each holds',
    run: later(() => import('./commands/domains.js'), 'domains'),
    flags: ['json', 'isolation', 'policy'],
    details: [
      'Loads the drivers given (default: every driver in build/drivers), then prints each domain (id, state,',
      'protection key, memory, time budget, object and recovery counts, threads) and each driver\'s kernel objects',
      '(irq, timer, work, lock, mutex, dma, memory) as the object tracker records them.',
    ],
    examples: [
      ['nooks domains', 'every built driver'],
      ['nooks domains ticker crashy --json', 'two drivers, as JSON'],
    ],
  },
  {
    name: 'policy',
    args: ['action', 'file'],
    help: 'policy check <file>: validate a recovery policy file and print it resolved',
    run: later(() => import('./commands/policy.js'), 'policy'),
    flags: ['json'],
    details: [
      'Reads a policy file (.yaml, .yml or .json), validates it and prints the default entry and every driver entry',
      'merged over it; or the error, with the file and the line (bad syntax) or key (a bad entry) it concerns. Exit 1 when invalid.',
    ],
    examples: [
      ['nooks policy check policy.yaml', 'valid? and the resolved entries'],
      ['nooks policy check policy.json --json', 'the resolved policy as JSON'],
    ],
  },
  {
    name: 'guest',
    args: ['what', 'suite'],
    help: 'guest bench pci: the pci benchmark on QEMU\'s e1000 in a QEMU guest, through UIO and VFIO',
    run: later(() => import('./commands/guest.js'), 'guest'),
    flags: ['json', 'seconds'],
    flagHelp: { seconds: 'Measuring time per isolation mode (default 1)' },
    details: [
      'Boots a Debian kernel (>= 6.12) in QEMU (software emulation, q35 with an Intel IOMMU, hugepages) with this',
      'project shared read-only, binds one e1000 to uio_pci_generic and one to vfio-pci, and runs',
      'nooks bench pci on each: frames/s and crossings/s in each isolation mode, pkey included (emulated), with',
      'relative = throughput / none. Emulation makes absolute figures slow: compare the ratios. About 2 minutes.',
    ],
    examples: [
      ['nooks guest bench pci --json', '{ uio: { workload, modes: [...] }, vfio: { ... } }'],
      ['nooks guest bench pci --seconds 2', 'longer measurements'],
    ],
  },
  {
    name: 'pci',
    args: ['action?', 'address?', 'via?'],
    help: 'List the PCI devices; pci bind <address> uio|vfio, pci unbind <address>: hand one to nooks and back',
    run: later(() => import('./commands/pci.js'), 'pci'),
    flags: ['json', 'force'],
    flagHelp: { force: 'bind: take a device the running system uses (an interface that is up, a mounted disk)' },
    details: [
      'Without an action: every PCI device of this machine with its ids, class, the Linux driver bound to it, its IOMMU',
      'group and what the running system uses it for. bind hands the device to uio_pci_generic or vfio-pci (through',
      'driver_override, loading the module if needed) so that kernel.attachPci(address, { via }) can put it on a nooks',
      'kernel\'s bus; a device the system uses (a network interface that is up, a disk that is mounted, swapped on or',
      'held) is refused unless --force. vfio needs an IOMMU (intel_iommu=on or amd_iommu=on); uio needs hugepages',
      '(/proc/sys/vm/nr_hugepages) for DMA. unbind takes it off and lets the kernel\'s own drivers probe it again.',
      'Binding needs root.',
    ],
    examples: [
      ['nooks pci', 'address, vendor:device, class, driver, iommu group, in use'],
      ['nooks pci bind 0000:03:00.0 vfio', 'to vfio-pci: then kernel.attachPci(\'0000:03:00.0\', { via: \'vfio\' })'],
      ['nooks pci unbind 0000:03:00.0', 'back to the kernel\'s driver'],
    ],
  },
];

const spec: CliSpec<typeof flags> = { program: 'nooks', commands, flags };

function help(commandName: string | undefined): string {
  const command = commands.find((c) => c.name === commandName);
  if (!command) {
    const examples = commands.flatMap((c) => c.examples.slice(0, 2));
    return [
      'nooks: run C drivers in protection domains inside Node.js; trap their faults and restart them.',
      '',
      usage(spec),
      '',
      'Examples:',
      ...exampleLines(examples),
      '',
      'Run `nooks <command> --help` for a command\'s options and more examples.',
    ].join('\n');
  }
  const own: CliSpec = {
    program: spec.program, commands,
    flags: flags.filter((f) => command.flags.includes(f.name)).map((f) => ({ ...f, help: command.flagHelp?.[f.name] ?? f.help })),
  };
  return [usage(own, command.name), '', ...command.details, '', 'Examples:', ...exampleLines(command.examples)].join('\n');
}

function exampleLines(examples: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...examples.map(([c]) => c.length));
  return examples.map(([c, what]) => `  ${c.padEnd(width)}  # ${what}`);
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const dashDash = argv.indexOf('--');
  const options = dashDash < 0 ? argv : argv.slice(0, dashDash);
  const json = options.includes('--json');
  const print = (line = '') => process.stdout.write(`${line}\n`);
  try {
    if ((options.includes('--version') || options.includes('-V')) && !options.includes('--help') && !options.includes('-h')) {
      print(json ? toJson({ version: version() }) : `nooks ${version()}`);
      return 0;
    }
    if (argv.length === 0) {
      process.stderr.write(`${help(undefined)}\n`);
      return 1;
    }
    const parsed = parseArgs(argv, spec);
    if (parsed.help) {
      print(help(parsed.command));
      return 0;
    }
    const command = commands.find((c) => c.name === parsed.command)!;
    for (const f of flags) {
      const value = parsed.flags[f.name];
      if (value !== undefined && value !== false && !command.flags.includes(f.name)) {
        throw new UsageError(`--${f.name} is not an option of ${command.name}; see nooks ${command.name} --help`);
      }
    }
    const ctx: Context = {
      args: parsed.args,
      dashed: parsed.dashed,
      flags: parsed.flags as Flags,
      print,
    };
    return await command.run(ctx);
  } catch (e) {
    const err = e as Error & { code?: string };
    const usageError = err instanceof UsageError;
    if (json) print(toJson({ error: { name: err.name, code: err.code ?? null, message: err.message } }));
    process.stderr.write(`nooks: ${usageError ? err.message : withCode(err.message, err.code)}\n`);
    if (usageError && !err.message.includes('--help')) process.stderr.write('Run `nooks --help` for the commands, `nooks <command> --help` for one command.\n');
    else if (process.env.NOOKS_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

// Run when executed (the bin, `node dist/lib/cli/main.js`), not when imported by tests.
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // `nooks demo | head`: the reader went away; stop quietly (the addon stops the kernel's threads at exit).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await main(process.argv.slice(2));
}
