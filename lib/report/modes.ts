// One order and one colour per mode on every table and chart of the report:
// the isolation modes in lib/wrappers/enums.ts's order, each +shadow variant
// next to its base in a lighter shade of its colour; the papers in their own.
import { isolations, type Isolation } from '../wrappers/enums.js';

const base: Record<Isolation, [plain: string, shadow: string]> = {
  none: ['#4e79a7', '#a0cbe8'],
  pkey: ['#59a14f', '#8cd17d'],
  mprotect: ['#f28e2b', '#ffbe7d'],
  process: ['#b07aa1', '#d4a6c8'],
};

/** The papers' figures, wherever they stand beside ours. */
export const paperColor = '#444444';

/** Every mode a report may show, in order: none, none+shadow, pkey, pkey+shadow, … */
export const modeOrder: string[] = isolations.flatMap((i) => [i, `${i}+shadow`]);

const colorOf = new Map<string, string>(isolations.flatMap((i) => [[i, base[i][0]], [`${i}+shadow`, base[i][1]]] as [string, string][]));

const rank = (m: string) => (modeOrder.includes(m) ? modeOrder.indexOf(m) : modeOrder.length);

/** Items in the report's order of their modes; unknown modes last, as given. */
export const byMode = <T>(items: readonly T[], modeOf: (t: T) => string): T[] => [...items].sort((a, b) => rank(modeOf(a)) - rank(modeOf(b)));

/** The modes among `names`, once each, in the report's order. */
export const ordered = (names: Iterable<string>): string[] => byMode([...new Set(names)], (m) => m);

/** A Plot colour scale for these modes (and the papers, named `paper`), the same colour for a mode on every chart. */
export function modeColors(names: Iterable<string>, paper?: string): { domain: string[]; range: string[] } {
  const domain = ordered(names);
  const range = domain.map((m) => colorOf.get(m) ?? '#999999');
  return paper ? { domain: [...domain, paper], range: [...range, paperColor] } : { domain, range };
}
