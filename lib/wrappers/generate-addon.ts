// Writes gen/addon/<surface>.inc for each addon surface (lib/wrappers/addon/):
// the table of the surface's N-API functions, included by the C++ file that
// defines them, after the definitions. A described function that file does not define is a
// compile error (it is named here); one it defines but is not described is not
// exported (and an unused static function warns).
import type { AddonSurface, ArgKind, Check } from './addon/describe.js';

/** The C++ function behind JS name fooBar. */
const cppName = (jsName: string): string => jsName[0].toUpperCase() + jsName.slice(1);

// native/addon.h: kMaxAddonArgs
const maxArgs = 10;

function argCheck(c: Check): string {
  const optional = c.endsWith('?');
  const nullable = c.endsWith('|null');
  const kind = c.replace(/\?$|\|null$/, '') as ArgKind;
  return `{ArgKind::${kind}, ${optional}, ${nullable}}`;
}

export function addonTable(s: AddonSurface): string {
  const out = [`// Generated from lib/wrappers/addon/ (surface '${s.name}') by lib/wrappers/generate-addon.ts: do not edit.`,
    `// Included by ${s.source} after its definitions of these functions (JS name fooBar: C++ FooBar).`,
    'const AddonFunction kAddonFunctions[] = {'];
  for (const [name, f] of Object.entries(s.functions)) {
    if (f.checks.length > maxArgs) throw new Error(`${s.name}.${name}: at most ${maxArgs} checked arguments (native/addon.h kMaxAddonArgs)`);
    out.push(`  // ${name}(${f.checks.join(', ')}): ${f.doc}`);
    out.push(`  {"${name}", ${cppName(name)}, ${f.checks.length}, {${f.checks.map(argCheck).join(', ')}}},`);
  }
  out.push('};', 'const AddonExports kAddonExports(kAddonFunctions);', '');
  return out.join('\n');
}
