// The generated docs match the code they describe; links between the docs reach their headings.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { reference } from '../lib/wrappers/reference.js';

describe('docs', () => {
  it('docs/driver-api.md lists every kernel call and class operation as the interface descriptions say (npm run docs)', () => {
    expect(readFileSync(join(packageRoot, 'docs', 'driver-api.md'), 'utf8')).toBe(reference());
  });

  it('every link to a heading of README.md or docs/*.md names one that exists (GitHub\'s anchors)', () => {
    const files = [join(packageRoot, 'README.md'), ...readdirSync(join(packageRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(packageRoot, 'docs', f))];
    const text = new Map(files.map((f) => [basename(f), readFileSync(f, 'utf8')]));
    // GitHub's anchor: lower case, punctuation dropped (`, /, :, ...), spaces to hyphens
    const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_ -]/gu, '').replaceAll(' ', '-');
    const headings = new Map([...text].map(([f, t]) => [f, new Set([...t.matchAll(/^#+ (.*)$/gm)].map((m) => anchor(m[1])))]));
    const broken = [...text].flatMap(([f, t]) => [...t.matchAll(/\]\((?:docs\/)?([a-z-]+\.md)?#([^)]+)\)/g)]
      .filter(([, target, id]) => !headings.get(target ?? f)?.has(id))
      .map(([link]) => `${f}: ${link}`));
    expect(broken).toEqual([]);
  });
});
