// The package's public declarations name only types a user can import: every
// type that an export's .d.ts refers to, and those they refer to in turn, is
// itself exported by one of the package's entries (package.json "exports").
// A type that is used but not exported leaves a user unable to name it (a
// TextPatch for Kernel.patchText could only be written as Parameters<...>).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';

const ownDeclarations = join(packageRoot, 'dist', 'lib');

function entryDeclarations(): string[] {
  const exports = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).exports as Record<string, string | { types?: string }>;
  return Object.values(exports).flatMap((e) => (typeof e === 'object' && e.types ? [join(packageRoot, e.types)] : []));
}

/** The names of the package's own types that its entries' declarations reach but no entry exports, each with where it is used. */
function unexportedTypes(): string[] {
  const entries = entryDeclarations();
  const program = ts.createProgram(entries, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exported = new Set<ts.Symbol>();
  for (const file of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    for (const s of checker.getExportsOfModule(module)) exported.add(resolve(s));
  }
  const own = (s: ts.Symbol) => s.declarations?.some((d) => d.getSourceFile().fileName.startsWith(ownDeclarations)) ?? false;
  const missing = new Map<string, string>();
  const seen = new Set<ts.Symbol>();
  const queue = [...exported];
  const reach = (node: ts.Node, from: string) => {
    if (ts.getJSDocTags(node).some((t) => t.tagName.text === 'internal')) return; // the package's own use, not its API
    if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.ProtectedKeyword)) return; // for subclasses: the package's classes are not for extending
    const name = ts.isTypeReferenceNode(node) ? node.typeName
      : ts.isExpressionWithTypeArguments(node) ? node.expression
      : ts.isImportTypeNode(node) ? node.qualifier : undefined; // not `typeof x`: naming the type does not take x
    const at = name && checker.getSymbolAtLocation(name);
    if (at) {
      const s = resolve(at);
      if (own(s) && !(s.flags & ts.SymbolFlags.TypeParameter)) {
        if (!exported.has(s) && !missing.has(s.name)) missing.set(s.name, from);
        if (!seen.has(s)) queue.push(s);
      }
    }
    ts.forEachChild(node, (child) => reach(child, from));
  };
  for (let s = queue.pop(); s; s = queue.pop()) {
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of s.declarations ?? []) reach(d, `${s.name} (${relative(packageRoot, d.getSourceFile().fileName)})`);
  }
  return [...missing].map(([name, from]) => `${name}, used by ${from}`).sort();
}

it('every type the public declarations use is exported by the package', () => {
  expect(unexportedTypes()).toEqual([]);
}, 60_000);
