/**
 * No module of the sources imports itself back, through any chain of imports,
 * type-only ones included (a type cycle still ties two files into one unit to
 * read and move). Imports are resolved by TypeScript itself with the project's
 * own options, so `#lib/*` (package.json imports) and `.js` specifiers count as
 * they compile; eslint's import-x/no-cycle skips type-only imports, hence this.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['lib', 'functions', 'bin', 'cdk', 'bench'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** file → the project files it imports (statically or dynamically, types included). */
function importGraph(): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error('tsconfig.json could not be read');
  const host = ts.createCompilerHost(config.options);
  const graph = new Map<string, string[]>();
  for (const file of SOURCE_DIRS.flatMap((d) => sourceFiles(join(ROOT, d)))) {
    const { importedFiles } = ts.preProcessFile(ts.sys.readFile(file) ?? '', true, true);
    const targets = importedFiles
      .map((i) => ts.resolveModuleName(i.fileName, file, config.options, host).resolvedModule)
      .filter((m) => m !== undefined && !m.isExternalLibraryImport && !m.resolvedFileName.endsWith('.d.ts'))
      .map((m) => m!.resolvedFileName);
    graph.set(file, targets);
  }
  return graph;
}

/** The strongly connected components of more than one file, or of a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(relative(ROOT, w));
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) out.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('the import graph', () => {
  it('resolves the sources it reads (a sanity check of the resolution)', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(200);
    // functions/ reach lib/ only through `#lib/*`: resolved, they are edges like any other.
    expect(graph.get(join(ROOT, 'bin', 'kumo.ts'))).toEqual([join(ROOT, 'lib', 'cli', 'main.ts')]);
  });

  it('has no cycles', () => {
    expect(cycles(importGraph())).toEqual([]);
  });
});

describe('the floors', () => {
  it('give every room of lib/ a floor in the lint rule (a room without one would be unchecked)', async () => {
    // Imported by URL: the config is plain JavaScript with no declarations for the type checker.
    const { FLOORS } = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as { FLOORS: string[][] };
    const rooms = readdirSync(join(ROOT, 'lib'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `lib/${e.name}`);
    expect(rooms.filter((r) => !FLOORS.flat().includes(r))).toEqual([]);
  });
});
