// `nooks report`: the papers' evaluation as a page (lib/report/).
import { resolve } from 'node:path';
import { dataDirOf, writeReport } from '../../report/report.js';
import { sources } from '../../report/sources.js';
import { Progress } from '../progress.js';
import { toJson, type Context } from './common.js';

export async function report(ctx: Context): Promise<number> {
  const quick = ctx.flags.quick;
  const out = ctx.flags.out ?? 'report';
  const progress = new Progress({ total: sources(quick, dataDirOf(out)).length, label: 'report', json: ctx.flags.json });
  const r = await writeReport({
    out,
    fresh: ctx.flags.fresh,
    quick,
    onSource: (s, cached, measured) => {
      progress.tick();
      if (ctx.flags.json) return;
      if (!cached) ctx.print(`measuring: ${s.title} (nooks ${s.argv.join(' ')})`);
      else if (measured) ctx.print(`kept: ${s.title} (measured ${measured.date} by nooks ${measured.argv.join(' ')}; --fresh measures again)`);
      else ctx.print(`kept: ${s.title} (from ${dataDirOf(out)}, measured by a run it does not record; --fresh measures again)`);
    },
  });
  progress.finish();
  const failed = r.sections.filter((s) => s.error);
  if (ctx.flags.json) {
    ctx.print(toJson({ page: resolve(r.page), sections: r.sections }));
  } else {
    for (const s of failed) ctx.print(`not measured: ${s.title}: ${s.error}`);
    ctx.print(`wrote ${resolve(r.page)}`);
  }
  return failed.length ? 1 : 0;
}
