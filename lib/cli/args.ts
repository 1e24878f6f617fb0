// The `nooks` command line: `nooks [options] <command> [args] [options]`.
// Flags are global and may come before or after the command; `--` ends them.

export interface FlagSpec {
  /** Long name without the dashes: `json` is `--json`. */
  readonly name: string;
  /** One letter: `h` is `-h`. */
  readonly short?: string;
  /** What the flag's value is called in the help (`file`); without it the flag is a boolean. */
  readonly value?: string;
  readonly choices?: readonly string[];
  /** A valued flag given any number of times: its values kept in order (a list), where another flag keeps its last. */
  readonly repeatable?: true;
  readonly help: string;
}

/** An option a pass-through command parses itself (`-o out.so`, `--posix`). */
export interface OwnOption {
  /** As written: `-o`, `--posix`. */
  readonly option: string;
  /** What its value is called in the help (`out.so`); without it the option is a switch. */
  readonly value?: string;
  readonly help: string;
}

/** `-o <out.so>`: an own option as the help and the command's messages write it. */
export const ownOptionText = (o: OwnOption): string => (o.value ? `${o.option} <${o.value}>` : o.option);

export interface CommandSpec {
  readonly name: string;
  /**
   * Positional arguments in order: `driver`, `count?` (optional), `sources...` (one or more), `files...?` (any number),
   * `-- argv...?` (any number, only after `--`: a program's arguments, which may start with a dash).
   */
  readonly args?: readonly string[];
  readonly help: string;
  /** The flags it takes (their names): an unknown option's message lists them. */
  readonly flags?: readonly string[];
  /**
   * The command parses its own options: everything after its first argument
   * (`nooks app db --image x`) or right after its name (`nooks build -I inc x.c -o x.so`).
   * `--help` among them still asks for the command's help in the second case.
   */
  readonly passThrough?: 'after-first-argument' | 'after-name';
  /** The options a pass-through command parses itself: its help lists them with the flags. */
  readonly ownOptions?: readonly OwnOption[];
}

export interface CliSpec<F extends readonly FlagSpec[] = readonly FlagSpec[]> {
  readonly program: string;
  readonly commands: readonly CommandSpec[];
  readonly flags: F;
}

/** A boolean per switch, `string | undefined` per valued flag (`string[] | undefined` repeatable); declare the flags `as const` to get their names. */
export type FlagValues<F extends readonly FlagSpec[]> = {
  -readonly [S in F[number] as S['name']]: S extends { repeatable: true } ? string[] | undefined : S extends { value: string } ? string | undefined : boolean;
};

/**
 * `--help`/`-h` skips argument checks, so that `nooks run --help` works without a driver. `dashed`, where `--` was
 * given: the arguments after it (the last of `args` too), for a command that tells them from the ones before.
 */
export type ParsedArgs<F extends readonly FlagSpec[]> =
  | { help: true; command: string | undefined }
  | { help: false; command: string; args: string[]; flags: FlagValues<F>; dashed?: string[] };

/** A mistake on the command line; the message is meant for the user as is. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs<F extends readonly FlagSpec[]>(argv: readonly string[], spec: CliSpec<F>): ParsedArgs<F> {
  const flags: Record<string, string | string[] | boolean | undefined> = {};
  for (const f of spec.flags) flags[f.name] = f.value ? undefined : false;
  const positionals: string[] = [];
  let dashed: string[] | undefined;
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      dashed = argv.slice(i + 1);
      positionals.push(...dashed);
      break;
    }
    if (token === '--help' || token === '-h') {
      help = true;
      continue;
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token);
      const pass = spec.commands.find((c) => c.name === positionals[0])?.passThrough;
      if ((pass === 'after-name' && positionals.length === 1) || (pass === 'after-first-argument' && positionals.length === 2)) {
        const own = argv.slice(i + 1);
        if (pass === 'after-name' && own.some((t) => t === '--help' || t === '-h')) help = true;
        positionals.push(...own);
        break;
      }
      continue;
    }
    const [written, inline] = splitOnce(token, '=');
    const flag = token.startsWith('--')
      ? spec.flags.find((f) => `--${f.name}` === written)
      : spec.flags.find((f) => f.short !== undefined && `-${f.short}` === written);
    if (!flag) {
      if (/^-\.?\d/.test(written)) throw new UsageError(`unknown option ${written}: a negative number as an argument goes after --, which ends the options`);
      const hint = closest(written, spec.flags.map((f) => `--${f.name}`).concat('--help'));
      if (hint) throw new UsageError(`unknown option ${written} (did you mean ${hint}?)`);
      // a program's own option, meant for its main
      const command = spec.commands.find((c) => c.name === positionals[0]);
      if (command?.args?.at(-1)?.startsWith('-- ')) {
        throw new UsageError(`unknown option ${written}: a program's arguments go after -- (${spec.program} ${command.name} ${positionals.slice(1).join(' ') || '<driver>'} ... -- ${token})`);
      }
      // what the command takes instead, as its help lists them
      const takes = command?.flags?.map((name) => spec.flags.find((f) => f.name === name)!).map((f) => (f.value ? `--${f.name} <${f.value}>` : `--${f.name}`));
      throw new UsageError(`unknown option ${written}${takes ? `; ${command!.name} takes ${takes.join(', ')}` : ''}`);
    }
    if (!flag.value) {
      if (inline !== undefined) throw new UsageError(`${written} takes no value`);
      flags[flag.name] = true;
      continue;
    }
    // a negative number is a value (for its flag to refuse by name), not an option
    const next = argv[i + 1];
    const value = inline ?? (next === undefined || (next.startsWith('-') && !/^-\.?\d/.test(next)) ? undefined : argv[++i]);
    if (value === undefined) throw new UsageError(`${written} needs a value: ${written} <${flag.value}>`);
    if (flag.choices && !flag.choices.includes(value)) {
      const hint = closest(value, flag.choices);
      throw new UsageError(`${written} must be one of ${flag.choices.join(', ')}, got "${value}"${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    flags[flag.name] = flag.repeatable ? [...((flags[flag.name] as string[] | undefined) ?? []), value] : value;
  }

  const [name, ...args] = positionals;
  const command = name === undefined ? undefined : findCommand(name, spec);
  if (help) return { help, command: command?.name };
  if (!command) throw new UsageError(`missing command: one of ${spec.commands.map((c) => c.name).join(', ')}`);
  checkArgs(command, args, dashed?.length ?? 0, spec.program);
  return { help, command: command.name, args, flags: flags as FlagValues<F>, ...(dashed ? { dashed } : {}) };
}

/** The help text: the whole program's, or one command's. */
export function usage(spec: CliSpec, commandName?: string): string {
  const command = commandName === undefined ? undefined : findCommand(commandName, spec);
  const options = (command?.ownOptions ?? []).map((o): Row => [ownOptionText(o), o.help]);
  for (const f of spec.flags) {
    const names = f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
    const choices = f.choices ? ` (${f.choices.join(', ')})` : '';
    options.push([f.value ? `${names} <${f.value}>` : names, f.help + choices + (f.repeatable ? ' (any number of times)' : '')]);
  }
  options.push(['-h, --help', 'Show this help']);
  const head = command
    ? [`Usage: ${spec.program} ${withOptions(command)}`, '', command.help]
    : [`Usage: ${spec.program} <command> [options]`, '', 'Commands:', ...table(spec.commands.map((c): Row => [signature(c), c.help]))];
  return [...head, '', 'Options:', ...table(options)].join('\n');
}

/** The candidate nearest to `word` by edit distance, if near enough to be a plausible typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const plausible = Math.max(2, Math.ceil(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d <= plausible && d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function findCommand(name: string, spec: CliSpec): CommandSpec {
  const command = spec.commands.find((c) => c.name === name);
  if (command) return command;
  const hint = closest(name, spec.commands.map((c) => c.name));
  throw new UsageError(`unknown command "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; run ${spec.program} --help for the list`);
}

function checkArgs(command: CommandSpec, args: readonly string[], dashed: number, program: string): void {
  const params = command.args ?? [];
  const required = params.filter((p) => !p.endsWith('?'));
  const rest = params.some((p) => variadic(p));
  const expected = `usage: ${program} ${signature(command)}`;
  if (args.length < required.length) throw new UsageError(`${command.name}: missing <${required[args.length]}>; ${expected}`);
  // one rule for every command that takes them: a word before -- is never taken for the program's
  const last = params.at(-1);
  if (last?.startsWith('-- ') && args.length - dashed > params.length - 1) {
    const word = args[params.length - 1];
    throw new UsageError(`${command.name}: unexpected argument "${word}": a program's arguments go after -- (${[program, command.name, ...args.slice(0, params.length - 1)].join(' ')} ... -- ${word}); ${expected}`);
  }
  if (!rest && args.length > params.length) {
    throw new UsageError(`${command.name}: unexpected argument "${args[params.length]}"; ${expected}`);
  }
}

/** `files...` or `files...?`: the last argument, taking the rest. */
const variadic = (p: string): boolean => p.replace(/\?$/, '').endsWith('...');

function signature(command: CommandSpec): string {
  const params = (command.args ?? []).map((p) => (p.endsWith('?') ? `[${p.slice(0, -1)}]` : `<${p}>`));
  return [command.name, ...params].join(' ');
}

/** The signature with [options] where they go: before `[-- argv...]`; none for a command whose last argument is its own options. */
function withOptions(command: CommandSpec): string {
  const line = signature(command);
  if (command.args?.at(-1) === 'options...?') return line;
  const dashed = line.lastIndexOf(' [-- ');
  return dashed < 0 ? `${line} [options]` : `${line.slice(0, dashed)} [options]${line.slice(dashed)}`;
}

type Row = [left: string, right: string];

function table(rows: readonly Row[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
