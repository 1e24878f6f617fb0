// The generated docs match the code they describe; links between the docs reach their headings; the
// source paths, command-line options and error codes the docs name exist.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { commands } from '../lib/cli/main.js';
import { programs } from '../lib/apps/programs.js';
import { reference } from '../lib/wrappers/reference.js';

const docFiles = [join(packageRoot, 'README.md'), ...readdirSync(join(packageRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(packageRoot, 'docs', f))];
const docs = new Map(docFiles.map((f) => [basename(f), readFileSync(f, 'utf8')]));
const where = (f: string, text: string, index: number) => `${f}:${text.slice(0, index).split('\n').length}`;

/** The source files under `dirs` whose names match `ext`, each with its path from the package root. */
function sources(dirs: string[], ext: RegExp): { file: string; text: string }[] {
  return dirs.flatMap((dir) => readdirSync(join(packageRoot, dir), { recursive: true, encoding: 'utf8' }).filter((f) => ext.test(f))
    .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(packageRoot, dir, f), 'utf8') })));
}

/**
 * The code in a document, each piece with its offset: every line of its fenced blocks, and its inline code
 * spans (one may run over a line break, read as a space).
 */
function codeIn(text: string): { code: string; index: number }[] {
  const code: { code: string; index: number }[] = [];
  let fenced = false;
  let at = 0;
  const prose = text.split('\n').map((line) => {
    const fence = /^\s*```/.test(line);
    if (fenced && !fence) code.push({ code: line, index: at });
    fenced = fence ? !fenced : fenced;
    at += line.length + 1;
    return fence || fenced ? ' '.repeat(line.length) : line; // blanked: a fence's backticks open no span
  }).join('\n');
  return [...code, ...[...prose.matchAll(/`([^`]+)`/g)].map((m) => ({ code: m[1].replace(/\s*\n\s*/g, ' '), index: m.index }))];
}

describe('docs', () => {
  it('docs/driver-api.md lists every kernel call and class operation as the interface descriptions say (npm run docs)', () => {
    expect(readFileSync(join(packageRoot, 'docs', 'driver-api.md'), 'utf8')).toBe(reference());
  });

  it('every link to a heading of README.md or docs/*.md names one that exists (GitHub\'s anchors)', () => {
    // GitHub's anchor: lower case, punctuation dropped (`, /, :, ...), spaces to hyphens
    const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_ -]/gu, '').replaceAll(' ', '-');
    const headings = new Map([...docs].map(([f, t]) => [f, new Set([...t.matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1])))]));
    const broken = [...docs].flatMap(([f, t]) => [...t.matchAll(/\]\((?:docs\/)?([a-z-]+\.md)?#([^)]+)\)/g)]
      .filter(([, target, id]) => !headings.get(target ?? f)?.has(id))
      .map(([link]) => `${f}: ${link}`));
    expect(broken).toEqual([]);
  });

  it('every source path the docs name (native/..., lib/..., drivers/..., test/..., templates/..., scripts/...) exists', () => {
    // A path starts the word (not dist/lib/..., build/drivers/...); one with a placeholder (<class>, *, {a,b}):
    // its directory.
    const missing = [...docs].flatMap(([f, t]) => [...t.matchAll(/(?<![\w/.-])(?:native|lib|drivers|test|templates|scripts)\/[\w./-]*/g)]
      .map((m) => ({ path: '*<{'.includes(t[m.index + m[0].length]) ? m[0].slice(0, m[0].lastIndexOf('/') + 1) : m[0].replace(/[.-]+$/, ''), at: where(f, t, m.index) }))
      .filter(({ path }) => !existsSync(join(packageRoot, path)))
      .map(({ path, at }) => `${at}: ${path}`));
    expect(missing).toEqual([]);
  });

  it('every option of a nooks command line in the docs is one that command takes (flags, its own options, --help)', () => {
    // Command lines: code (a fenced block's line, an inline code span) that starts with `nooks` or `npx nooks`,
    // up to a comment (#) or a pipe (|: another program's options, or a choice as in --class block|net). What
    // follows an app's name (nooks app db --image ...) is the app's own options (lib/apps/programs.ts).
    const taking = (names: readonly string[], own: readonly string[] = []) => new Set(['--help', ...names.map((n) => `--${n}`), ...own]);
    const byName = new Map(commands.map((c) => [c.name, taking(c.flags, (c.ownOptions ?? []).map((o) => o.option))]));
    const byApp = new Map(programs.map((p) => [`app ${p.name}`, taking([...Object.keys(p.options), ...Object.keys(p.switches ?? {})])]));
    const lines = [...docs].flatMap(([f, t]) => codeIn(t).map((c) => ({ f, t, ...c })));
    // the reading finds them: a fenced one (drivers.md's), an inline span (README's) and an app's, not none
    expect(lines.map(({ code }) => code.trim())).toEqual(expect.arrayContaining(['npx nooks build hello.c -o hello.so', 'nooks sdk --cflags', 'nooks app db --image /tmp/db.img']));
    const wrong = lines.flatMap(({ f, t, code, index }) => {
      const m = /^\s*(?:npx )?nooks (app [a-z][a-z-]*(?![\w-])|[a-z]+)([^#|]*)/.exec(code);
      if (!m) return [];
      const taken = byName.get(m[1]) ?? byApp.get(m[1]);
      if (!taken) return [`${where(f, t, index)}: nooks ${m[1]}: no such ${m[1].startsWith('app ') ? 'app' : 'command'}`];
      return [...m[2].matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].filter(([o]) => !taken.has(o)).map(([o]) => `${where(f, t, index)}: nooks ${m[1]} ${o}`);
    });
    expect(wrong).toEqual([]);
  });

  it('every error code the docs name (`EINVAL`, `EUNLOADED`, ...) is one the sources name', () => {
    // A code the code never writes cannot be what a user sees. The sources' words, split at '_' so that a
    // register the docs name (`EECD`) is found in its C name (E1000_EECD).
    const words = new Set(sources(['lib', 'native'], /\.(ts|cc|h|c|S)$/).flatMap(({ text }) => text.match(/[A-Z][A-Z0-9_]+/g) ?? []).flatMap((w) => w.split('_')));
    const unknown = [...docs].flatMap(([f, t]) => [...t.matchAll(/`(E[A-Z][A-Z0-9]{2,})`/g)]
      .filter((m) => !words.has(m[1])).map((m) => `${where(f, t, m.index)}: ${m[1]}`));
    expect(unknown).toEqual([]);
  });

  it('every value the package exports (from \'nooks\' and \'nooks/testing\') is named in README.md or docs/*.md', async () => {
    const exported = [...Object.keys(await import('../lib/index.js')), ...Object.keys(await import('../lib/testing.js'))];
    const all = [...docs.values()].join('\n');
    expect(exported).toContain('openNet');
    expect(exported.filter((name) => !new RegExp(`\\b${name}\\b`).test(all))).toEqual([]);
  });

  it('every kind of kernel log event the native code emits is in api.md\'s table (test hooks\' test-* aside)', () => {
    // An event is written {"kind", {{field, value}, ...}} where it is made (klog_event, klog_line), perhaps over
    // lines, or {"kind", std::move(fields)} with its fields made before.
    const native = sources(['native'], /\.(cc|h)$/).map(({ text }) => text).join('\n');
    const kinds = new Set([...native.matchAll(/\{\s*"([a-z][a-z0-9-]*)",\s*(?:\{\{|std::move\()/g)].map((m) => m[1]).filter((k) => !k.startsWith('test-')));
    const table = docs.get('api.md')!.split('## Kernel log events')[1];
    expect([...kinds]).toEqual(expect.arrayContaining(['device-error', 'shadow-restored'])); // the pattern finds them: one made before, one over lines
    expect([...kinds].filter((k) => !table.includes(`| \`${k}\` |`))).toEqual([]);
  });

  it('every section the sources and docs cite by name (docs/recovery.md, "How waits end") begins a heading of that file', () => {
    const cited = [...[...docs].map(([file, text]) => ({ file, text })), ...sources(['lib', 'native', 'drivers', 'test', 'templates'], /\.(ts|mjs|cc|h|c|S)$/)];
    const headings = new Map([...docs].map(([f, t]) => [f, [...t.matchAll(/^#+ (.*)$/gm)].map((m) => m[1].toLowerCase())]));
    // A name may run over a line break (and a comment's // or * that starts the next line), and be quoted
    // inside a string literal (\"A thread left running\", free_irq\'s give-up).
    const name = (section: string) => section.replace(/\s*\n\s*(?:\/\/|\*)?\s*/g, ' ').replace(/\\(?=')/g, '').toLowerCase();
    const wrong = cited.flatMap(({ file, text }) => [...text.matchAll(/(?:docs\/)?([a-z-]+\.md)\)?,? \\?"([^"\\]+(?:\\'[^"\\]*)*)\\?"/g)]
      .filter(([, doc, section]) => !headings.get(doc)?.some((h) => h.startsWith(name(section)))) // no such section, or document
      .map((m) => `${where(file, text, m.index)}: ${m[1]}${headings.has(m[1]) ? '' : ' (no such document)'}, "${name(m[2])}"`));
    expect(wrong).toEqual([]);
  });
});
