import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every relative import of a file: whether it imports types only, and the file it names (from src/). */
function imports(file: string): { typeOnly: boolean; target: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export) (type )?[^;]*? from '(\.[^']+)';/gms)].map((m) => ({
    typeOnly: m[1] !== undefined,
    target: relative(SRC, resolve(dirname(file), m[2]!)),
  }));
}

/** The domains whose types the store keeps, and which use the store only through the ports they own. */
const DOMAINS = ['sessions', 'audit', 'orgs', 'mfa', 'logout'];

/**
 * What the store may use from outside src/store/ beyond types: the injected clock, the pure
 * deadline judging the memory store shares with src/sessions (the Lua mirrors it), and the
 * one error model (src/errors.ts: a down store, a bad cursor).
 */
const STORE_MAY_RUN = new Set(['clock.ts', 'sessions/judge.ts', 'sessions/deadlines.ts', 'errors.ts']);

describe('the store depends on domain types, the domain on the store interface', () => {
  it('src/store imports only types from outside it, besides the clock, the pure judging and its error', () => {
    const offending = sources(join(SRC, 'store')).flatMap((file) =>
      imports(file)
        .filter((i) => !i.target.startsWith('store/') && !i.typeOnly && !STORE_MAY_RUN.has(i.target))
        .map((i) => `${relative(SRC, file)} → ${i.target}`),
    );
    expect(offending).toEqual([]);
  });

  it('the domain folders import nothing from src/store: each owns the store port it uses (its store.ts)', () => {
    const offending = DOMAINS.flatMap((domain) =>
      sources(join(SRC, domain)).flatMap((file) =>
        imports(file)
          .filter((i) => i.target.startsWith('store/'))
          .map((i) => `${relative(SRC, file)} → ${i.target}`),
      ),
    );
    expect(offending).toEqual([]);
  });

  it('each domain that owns a port keeps it in its store.ts, and src/store/types.ts assembles the Store from them', () => {
    const assembly = readFileSync(join(SRC, 'store/types.ts'), 'utf8');
    for (const domain of DOMAINS) {
      expect(imports(join(SRC, domain, 'store.ts')).every((i) => i.typeOnly && !i.target.startsWith('store/')), domain).toBe(true);
      expect(assembly, domain).toContain(`from '../${domain}/store.ts'`);
    }
  });
});
