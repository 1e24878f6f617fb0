import { describe, expect, expectTypeOf, it } from 'vitest';
import { closest, parseArgs, usage, UsageError, type CliSpec } from '../lib/cli/args.js';
import { formatProgress, Progress } from '../lib/cli/progress.js';

const spec = {
  program: 'nooks',
  commands: [
    { name: 'run', args: ['driver'], help: 'Load a driver and run it' },
    { name: 'bench', args: ['what?'], help: 'Measure crossings' },
    { name: 'check', args: ['files...?'], help: 'Validate policy files' },
    { name: 'build', args: ['sources...'], help: 'Build a driver' },
  ],
  flags: [
    { name: 'json', help: 'Machine-readable output' },
    { name: 'isolation', value: 'mode', choices: ['pkey', 'process'], help: 'How drivers are isolated' },
    { name: 'policy', short: 'p', value: 'file', help: 'Recovery policy file' },
  ],
} as const satisfies CliSpec;

describe('parseArgs', () => {
  it('parses a command, its arguments and flags anywhere', () => {
    const parsed = parseArgs(['--json', 'run', 'drivers/e1000.so', '--isolation', 'pkey', '-p', 'policy.yaml'], spec);
    expect(parsed).toEqual({
      help: false,
      command: 'run',
      args: ['drivers/e1000.so'],
      flags: { json: true, isolation: 'pkey', policy: 'policy.yaml' },
    });
    if (parsed.help) throw new Error('unreachable');
    expectTypeOf(parsed.flags).toEqualTypeOf<{ json: boolean; isolation: string | undefined; policy: string | undefined }>();
  });

  it('fills unset flags, takes --flag=value and stops at --', () => {
    expect(parseArgs(['check', '--policy=a.yaml', '--', '--json', 'b.yaml'], spec)).toEqual({
      help: false,
      command: 'check',
      args: ['--json', 'b.yaml'],
      flags: { json: false, isolation: undefined, policy: 'a.yaml' },
      dashed: ['--json', 'b.yaml'],
    });
    expect(parseArgs(['bench'], spec)).toMatchObject({ command: 'bench', args: [] });
    expect(parseArgs(['bench', 'xpc'], spec)).toMatchObject({ command: 'bench', args: ['xpc'] });
    expect(parseArgs(['check'], spec)).toMatchObject({ command: 'check', args: [] }); // any number
    expect(parseArgs(['build', 'a.c', 'b.c'], spec)).toMatchObject({ command: 'build', args: ['a.c', 'b.c'] }); // one or more
  });

  it('keeps every value of a repeatable flag, in order, and says so in the help', () => {
    const repeated = { ...spec, flags: [{ name: 'device', value: 'device', repeatable: true, help: 'A device' }] } as const satisfies CliSpec;
    const parsed = parseArgs(['--device', 'e1000', 'run', 'x.so', '--device=blk,image=a.img'], repeated);
    expect(parsed).toEqual({ help: false, command: 'run', args: ['x.so'], flags: { device: ['e1000', 'blk,image=a.img'] } });
    if (parsed.help) throw new Error('unreachable');
    expectTypeOf(parsed.flags).toEqualTypeOf<{ device: string[] | undefined }>();
    expect(parseArgs(['run', 'x.so'], repeated)).toMatchObject({ flags: { device: undefined } });
    expect(usage(repeated)).toContain('  --device <device>  A device (any number of times)');
  });

  // Before: `exec x.so foo` gave main foo (argv...? took any word), where docs and the other commands take only what follows --.
  it('takes a program\'s arguments only after --, and puts [options] before them in the help', () => {
    const program = { ...spec, commands: [{ name: 'exec', args: ['driver', '-- argv...?'], help: 'Run a program' }] } as const satisfies CliSpec;
    expect(parseArgs(['exec', 'x.so', '--json', '--', '-v', 'eth0'], program)).toMatchObject({ args: ['x.so', '-v', 'eth0'], dashed: ['-v', 'eth0'] });
    expect(parseArgs(['exec', 'x.so'], program)).toMatchObject({ args: ['x.so'] });
    expect(() => parseArgs(['exec', 'x.so', 'eth0', '--', '-v'], program)).toThrow(
      'exec: unexpected argument "eth0": a program\'s arguments go after -- (nooks exec x.so ... -- eth0); usage: nooks exec <driver> [-- argv...]');
    expect(usage(program, 'exec').split('\n')[0]).toBe('Usage: nooks exec <driver> [options] [-- argv...]');
    // Before: `unknown option -i`, without a word of where a program's options go
    expect(() => parseArgs(['exec', 'x.so', '-i', '20'], program)).toThrow('unknown option -i: a program\'s arguments go after -- (nooks exec x.so ... -- -i)');
    expect(() => parseArgs(['exec', 'x.so', '--jsno'], program)).toThrow('unknown option --jsno (did you mean --json?)');
  });

  // Before: a plain `unknown option -c` (`nooks campaign --driver x -c 3`), not a word of what the command takes
  it('names the options a command takes when one given is unknown', () => {
    const takes = { ...spec, commands: [{ name: 'campaign', args: ['action?'], help: 'Run trials', flags: ['json', 'policy'] }] } as const satisfies CliSpec;
    expect(() => parseArgs(['campaign', '--policy', 'p', '-c', '3'], takes)).toThrow('unknown option -c; campaign takes --json, --policy <file>');
    expect(() => parseArgs(['campaign', '--jsno'], takes)).toThrow('unknown option --jsno (did you mean --json?)');
  });

  it('answers --help and -h without checking arguments', () => {
    expect(parseArgs(['--help'], spec)).toEqual({ help: true, command: undefined });
    expect(parseArgs(['run', '-h'], spec)).toEqual({ help: true, command: 'run' });
  });

  const errors: [string[], string][] = [
    [[], 'missing command: one of run, bench, check, build'],
    [['rnu', 'x'], 'unknown command "rnu" (did you mean "run"?); run nooks --help for the list'],
    [['benhc', '--help'], 'unknown command "benhc" (did you mean "bench"?)'],
    [['zzzzzz'], 'unknown command "zzzzzz"; run nooks --help for the list'],
    [['run', 'x', '--jsno'], 'unknown option --jsno (did you mean --json?)'],
    [['run', 'x', '-q'], 'unknown option -q'],
    [['check', 'a', '-1'], 'unknown option -1: a negative number as an argument goes after --, which ends the options'],
    [['run'], 'run: missing <driver>; usage: nooks run <driver>'],
    [['run', 'a', 'b'], 'run: unexpected argument "b"; usage: nooks run <driver>'],
    [['build'], 'build: missing <sources...>; usage: nooks build <sources...>'],
    [['run', 'x', '--policy'], '--policy needs a value: --policy <file>'],
    [['run', 'x', '--policy', '--json'], '--policy needs a value: --policy <file>'],
    [['run', 'x', '--json=yes'], '--json takes no value'],
    [['run', 'x', '--isolation', 'pkeys'], '--isolation must be one of pkey, process, got "pkeys" (did you mean pkey?)'],
  ];
  it.each(errors)('%j fails with a helpful message', (argv, message) => {
    expect(() => parseArgs(argv, spec)).toThrow(UsageError);
    expect(() => parseArgs(argv, spec)).toThrow(message);
  });
});

describe('usage', () => {
  it('lists commands and options', () => {
    expect(usage(spec)).toBe(
      [
        'Usage: nooks <command> [options]',
        '',
        'Commands:',
        '  run <driver>        Load a driver and run it',
        '  bench [what]        Measure crossings',
        '  check [files...]    Validate policy files',
        '  build <sources...>  Build a driver',
        '',
        'Options:',
        '  --json               Machine-readable output',
        '  --isolation <mode>   How drivers are isolated (pkey, process)',
        '  -p, --policy <file>  Recovery policy file',
        '  -h, --help           Show this help',
      ].join('\n'),
    );
  });

  it('describes one command', () => {
    expect(usage(spec, 'run').split('\n').slice(0, 3)).toEqual(['Usage: nooks run <driver> [options]', '', 'Load a driver and run it']);
  });

  it('names the options once for a command that parses its own', () => {
    const own = { ...spec, commands: [{ name: 'sdk', args: ['options...?'], passThrough: 'after-name', help: 'Print the build flags' }] } as const satisfies CliSpec;
    expect(usage(own, 'sdk').split('\n')[0]).toBe('Usage: nooks sdk [options...]');
  });
});

describe('closest', () => {
  it('suggests only plausible typos', () => {
    expect(closest('isolaton', ['json', 'isolation', 'policy'])).toBe('isolation');
    expect(closest('polcy', ['json', 'isolation', 'policy'])).toBe('policy');
    expect(closest('xyz', ['run', 'bench'])).toBeUndefined();
  });
});

describe('formatProgress', () => {
  it('draws the bar, counts, percentage and ETA', () => {
    expect(formatProgress(12, 40, 2000)).toBe('[###-------] 12/40 30% ETA 5s');
    expect(formatProgress(0, 40, 0)).toBe('[----------] 0/40 0%');
    expect(formatProgress(40, 40, 9000)).toBe('[##########] 40/40 100% ETA 0s');
    expect(formatProgress(1, 100, 2000)).toBe('[----------] 1/100 1% ETA 3m18s');
    expect(formatProgress(1, 4, 3_600_000)).toBe('[###-------] 1/4 25% ETA 3h00m');
  });
});

describe('Progress', () => {
  function tty(isTTY: boolean) {
    const writes: string[] = [];
    return { isTTY, writes, write: (s: string) => void writes.push(s) };
  }

  it('draws on a TTY, throttled, always drawing the last step, then erases the line', () => {
    const stream = tty(true);
    let t = 0;
    const progress = new Progress({ total: 3, label: 'bench', stream, now: () => t });
    progress.tick(); // drawn
    t = 50;
    progress.tick(); // within 100 ms of the last draw: skipped
    t = 60;
    progress.tick(); // the end: drawn
    progress.finish();
    expect(stream.writes).toEqual([
      '\rbench [###-------] 1/3 33% ETA 0s\x1b[K',
      '\rbench [##########] 3/3 100% ETA 0s\x1b[K',
      '\r\x1b[K',
    ]);
  });

  it('is silent when stderr is not a TTY, or in --json mode', () => {
    for (const [stream, json] of [[tty(false), false], [tty(true), true]] as const) {
      const progress = new Progress({ total: 2, stream, json });
      progress.tick(2);
      progress.finish();
      expect(stream.writes).toEqual([]);
    }
  });
});
