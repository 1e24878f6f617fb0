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
    onSource: (s, cached) => {
      progress.tick();
      if (!ctx.flags.json) ctx.print(`${cached ? 'kept' : 'measuring'}: ${s.title} (nooks ${s.argv.join(' ')})`);
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
