// `nooks domains [drivers...]`: load drivers and show their protection
// domains and the kernel objects each holds.
import type { Driver } from '../../kernel.js';
import { builtInDrivers, driversDir, rebuildAdvice } from '../../paths.js';
import { isolationOf, policyOf, sleep, table, toJson, withKernel, type Context } from './common.js';

export async function domains(ctx: Context): Promise<number> {
  const names = ctx.args.length > 0 ? ctx.args : builtInDrivers();
  if (names.length === 0) throw new Error(`no drivers given and none built in ${driversDir} (${rebuildAdvice})`);

  return withKernel({ isolation: isolationOf(ctx), policy: policyOf(ctx) }, async (k) => {
    const loaded: Driver[] = [];
    for (const n of names) loaded.push(await k.load(n));
    await sleep(20); // let timers and work that init started run once
    const doms = k.domains();
    const objects = Object.fromEntries(loaded.map((d) => [d.name, d.objects()]));

    if (ctx.flags.json) {
      ctx.print(toJson({ isolation: k.isolation, domains: doms, objects }));
      return 0;
    }
    ctx.print(`isolation ${k.isolation}: ${doms.length} domain(s)`);
    ctx.print('');
    for (const line of table(
      ['id', 'name', 'state', 'pkey', 'heap used', 'mem limit', 'budget ms', 'objects', 'recoveries', 'threads', 'path'],
      doms.map((d) => [String(d.id), d.name, d.state, d.pkey < 0 ? '-' : `${d.pkey}${d.sharedKey ? ' (shared)' : ''}`,
        bytes(d.heapUsed), bytes(d.memLimit), String(d.timeBudgetMs), String(d.objects), String(d.recoveries), String(d.threads), d.path]),
      ['right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    )) ctx.print(line);
    for (const d of loaded) {
      ctx.print('');
      const list = objects[d.name];
      ctx.print(`${d.name}: ${list.length} object(s)`);
      if (list.length === 0) continue;
      for (const line of table(['type', 'address', 'size', 'label'], list.map((o) => [o.type, o.address, String(o.size), o.label]),
        ['left', 'left', 'right', 'left'])) ctx.print(`  ${line}`);
    }
    return 0;
  });
}

function bytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1 << 10 && n % (1 << 10) === 0) return `${n >> 10} KiB`;
  return `${n} B`;
}
