import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/** Every source file under src/, with the src/ files it imports (relative specifiers only). */
function imports(): Array<{ from: string; to: string }> {
  const edges: Array<{ from: string; to: string }> = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(entry.name)) {
        for (const m of readFileSync(path, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
          edges.push({ from: relative(SRC, path), to: relative(SRC, normalize(join(dirname(path), m[1] ?? ''))) });
        }
      }
    }
  };
  walk(SRC);
  return edges;
}

/** Top-level folders of src/ and the folders each imports. Files at the top of src/ are left out: app.ts and main.ts assemble everything; clock.ts and logger.ts are used by everything. */
function folderImports(): Map<string, Set<string>> {
  const folder = (file: string) => (file.includes(sep) ? file.split(sep)[0] : undefined);
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of imports()) {
    const a = folder(from);
    const b = folder(to);
    if (!a || !b || a === b) continue;
    const out = graph.get(a) ?? new Set<string>();
    out.add(b);
    graph.set(a, out);
  }
  return graph;
}

/** Pairs of folders that import each other (`a ↔ b`, a before b). */
export function mutualFolders(): string[] {
  const graph = folderImports();
  const pairs: string[] = [];
  for (const [a, outs] of graph) for (const b of outs) if (a < b && graph.get(b)?.has(a)) pairs.push(`${a} ↔ ${b}`);
  return pairs.sort();
}


describe('dependencies point one way (routes → operations → domain → store interface)', () => {
  it('no two folders of src/ import each other (type imports count)', () => {
    expect(mutualFolders()).toEqual([]);
  });

  it('the leaves shared by domains and store (crypto, rate-limit) import nothing of src/', () => {
    const graph = folderImports();
    for (const leaf of ['crypto', 'rate-limit']) expect([...(graph.get(leaf) ?? [])], leaf).toEqual([]);
    const files = imports().filter(({ from }) => from.startsWith(`crypto${sep}`) || from.startsWith(`rate-limit${sep}`));
    expect(files.filter(({ to }) => !to.startsWith(`crypto${sep}`) && !to.startsWith(`rate-limit${sep}`))).toEqual([]);
  });

  it('oidc, sessions, mfa and orgs import one another one way only', () => {
    const graph = folderImports();
    for (const [a, b] of [['oidc', 'sessions'], ['oidc', 'mfa'], ['orgs', 'sessions']] as const) {
      expect(graph.get(b)?.has(a) ?? false, `${b} imports ${a}`).toBe(false);
      expect(graph.get(a)?.has(b), `${a} imports ${b}`).toBe(true);
    }
  });

  it('http imports no domain, and no folder imports ops, cli or types (only the composition root)', () => {
    const graph = folderImports();
    const domains = ['accounts', 'admin', 'compliance', 'logout', 'mfa', 'oidc', 'orgs', 'sessions'];
    expect([...(graph.get('http') ?? [])].filter((to) => domains.includes(to))).toEqual([]);
    for (const top of ['ops', 'cli', 'types']) {
      expect([...graph].filter(([, outs]) => outs.has(top)).map(([from]) => from), `who imports ${top}/`).toEqual([]);
    }
    // The shape this guards exists: ops/ reads the domains' signals, cli/ the key generators.
    expect(graph.get('ops')?.has('sessions')).toBe(true);
    expect(graph.get('cli')?.has('oidc')).toBe(true);
  });
});
