// `nooks app [<name> [options...]]`: runs one of the applications
// (lib/apps/programs.ts) in this process, or lists them.
import { runProgram, usageLine } from '../../apps/program.js';
import { programs } from '../../apps/programs.js';
import { closest, UsageError } from '../args.js';
import { table, toJson, type Context } from './common.js';

export async function app(ctx: Context): Promise<number> {
  const [name, ...options] = ctx.args;
  if (name === undefined) {
    if (ctx.flags.json) {
      ctx.print(toJson(programs.map((p) => ({ name: p.name, class: p.class, summary: p.summary, usage: usageLine(p) }))));
      return 0;
    }
    for (const line of table(['app', 'class', 'what it does'], programs.map((p) => [p.name, p.class, p.summary]))) ctx.print(line);
    ctx.print('');
    ctx.print('Run `nooks app <app> --help` for its options.');
    return 0;
  }
  const program = programs.find((p) => p.name === name);
  if (!program) {
    const hint = closest(name, programs.map((p) => p.name));
    throw new UsageError(`unknown app "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}; available: ${programs.map((p) => p.name).join(', ')}`);
  }
  if (options.includes('--help') || options.includes('-h')) {
    ctx.print(`${program.summary}\n\nusage: nooks app ${usageLine(program)}`);
    for (const [opt, what] of Object.entries({ ...program.options, ...program.switches })) ctx.print(`  --${opt.padEnd(12)} ${what.replace(/^!/, '(required) ')}`);
    return 0;
  }
  return runProgram(program, options);
}
