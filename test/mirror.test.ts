import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * test/ mirrors src/: the tests of `src/a/b.ts` are `test/a/b.test.ts`, so a newcomer finds a
 * module's tests without searching. Every module is mirrored, declared logic-free (with why),
 * or listed below as not yet mirrored with the suites that cover it today. This test keeps the
 * lists honest: an entry whose module is gone, or that has its mirrored test now, fails.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The store's backends are tested through one contract both must meet, not file by file: a
 * sub-store `src/store/{redis,memory}/<x>.ts` is mirrored by `test/store/contract/<x>.ts`, which
 * test/store/contract/index.ts runs and test/store/{redis,memory}.test.ts run on both backends;
 * a sub-store with its own two-backend suite (the marker) by `test/store/<x>.test.ts`; a
 * backend's `index.ts` by `test/store/<backend>.test.ts`. Every other store module
 * (keys.ts, decode.ts, expiring-map.ts, …) needs its mirrored test as anywhere else.
 */
const BACKENDS = ['redis', 'memory'] as const;
function storeMirrorOf(module: string): string | undefined {
  const match = /^src\/store\/(redis|memory)\/([^/]+)\.ts$/.exec(module);
  if (!match) return undefined;
  const [, backend, name] = match;
  if (name === 'index') return `test/store/${backend}.test.ts`;
  if (exists(`test/store/contract/${name}.ts`)) return `test/store/contract/${name}.ts`;
  if (exists(`test/store/${name}.test.ts`)) return `test/store/${name}.test.ts`;
  return undefined;
}

/** Modules with no behaviour of their own to test. */
const LOGIC_FREE: Record<string, string> = {
  'src/audit/types.ts': 'types and the list of event names',
  'src/orgs/types.ts': 'types only',
  'src/logout/types.ts': 'types only (a delivery and its states)',
  'src/mfa/types.ts': 'types only (a TOTP enrollment)',
  'src/store/types.ts': 'the Store interface (each method\'s atomicity in its JSDoc) and a re-export of ConflictError; the contract suites test what it promises',
  'src/sessions/types.ts': 'types and the list of activity sources',
  'src/sessions/policy-types.ts': 'types only',
  'src/sessions/store.ts': 'the sessions store ports (interfaces); test/store/contract checks both stores against them',
  'src/logout/store.ts': 'the delivery store ports (interfaces); test/store/contract checks both stores against them',
  'src/mfa/store.ts': 'the TOTP store port (an interface); test/store/contract checks both stores against it',
  'src/audit/store.ts': 'the audit store port (an interface); test/store/contract checks both stores against it',
  'src/orgs/store.ts': 'the directory store port (an interface); test/store/contract checks both stores against it',
  'src/rate-limit/rate-limiter.ts': 'the rate limiter interface; test/store/contract checks both stores against it',
  'src/types/oidc-provider.ts': 'a type augmentation; tsc checks its use',
  'src/types/koa.ts': 'a type augmentation; tsc checks its use (the getters that read it: test/admin/request-state.test.ts)',
  'src/config/schema.ts': 're-exports settings.ts',
  'src/config/write-readme-table.ts': 'a CLI around readme-table.ts, which test/config/readme-table.test.ts covers',
  'src/clock.ts': 'the system clock and a settable one; every test with a pinned clock uses it',
  'src/app.ts': 'the composition root: wires modules together; every HTTP test starts it (test/support/curfew.ts)',
  'src/main.ts': 'the process entry; test/e2e and test/config/load.test.ts start it as a process',
  'src/oidc/claims.ts': 'the scopes and claims the provider is configured with (constants); test/oidc/provider.test.ts checks discovery publishes them',
  'src/oidc/interactions/routes.ts': 'the interaction route table; each handler has its mirrored test, its form limit (bodyLimits.signInFormKb) is test/config/settings-applied.test.ts',
};

/**
 * Modules with logic but no mirrored test yet — a debt, not a permission: each names the
 * suites that exercise it today. Remove an entry when its mirrored test exists (this test then
 * insists); never add one for a new module.
 */
const NOT_YET_MIRRORED: Record<string, string[]> = {
};

function modules(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return modules(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const exists = (path: string) => existsSync(join(ROOT, path));
const plainMirrorOf = (module: string) => module.replace(/^src\//, 'test/').replace(/\.(ts|js)$/, '.test.ts');
const mirrorOf = (module: string) => (exists(plainMirrorOf(module)) ? plainMirrorOf(module) : (storeMirrorOf(module) ?? plainMirrorOf(module)));
/** What to write for a module without its test: a backend's sub-store gets a contract suite. */
const wanted = (module: string) => /^src\/store\/(redis|memory)\/([^/]+)\.ts$/.exec(module)?.[2]?.replace(/^(.*)$/, 'test/store/contract/$1.ts (run by both backends)') ?? plainMirrorOf(module);

describe('test/ mirrors src/', () => {
  const all = modules('src');

  it('finds the source tree', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all).toContain('src/sessions/judge.ts');
  });

  it('has a mirrored test for every module with logic', () => {
    const missing = all.filter((m) => !exists(mirrorOf(m)) && !(m in LOGIC_FREE) && !(m in NOT_YET_MIRRORED));
    expect(missing, `write ${[...new Set(missing.map(wanted))].join(', ')}`).toEqual([]);
  });

  it('lists only modules that exist and still lack their mirrored test', () => {
    for (const m of [...Object.keys(LOGIC_FREE), ...Object.keys(NOT_YET_MIRRORED)]) {
      expect(exists(m), `${m} is gone: remove its entry`).toBe(true);
      expect(exists(mirrorOf(m)), `${mirrorOf(m)} exists: remove ${m}'s entry`).toBe(false);
    }
  });

  it('runs every contract suite that mirrors a sub-store, on both backends', () => {
    const index = readFileSync(join(ROOT, 'test/store/contract/index.ts'), 'utf8');
    const contracts = all.map(storeMirrorOf).filter((m): m is string => m?.startsWith('test/store/contract/') ?? false);
    expect(contracts.length).toBeGreaterThan(5);
    for (const contract of new Set(contracts)) {
      expect(index, `${contract} is not run by test/store/contract/index.ts`).toContain(`from './${contract.slice('test/store/contract/'.length)}'`);
    }
    for (const backend of BACKENDS) expect(readFileSync(join(ROOT, `test/store/${backend}.test.ts`), 'utf8'), backend).toMatch(/describeStoreContract\(/);
    // A two-backend suite of its own names both backends.
    for (const suite of new Set(all.map(storeMirrorOf).filter((m): m is string => m !== undefined && /^test\/store\/[^/]+\.test\.ts$/.test(m) && !BACKENDS.some((b) => m === `test/store/${b}.test.ts`)))) {
      const text = readFileSync(join(ROOT, suite), 'utf8');
      for (const backend of BACKENDS) expect(text, `${suite} runs on ${backend}`).toContain(`'${backend}'`);
    }
  });

  it('names suites that exist for every module not yet mirrored', () => {
    for (const [m, suites] of Object.entries(NOT_YET_MIRRORED)) {
      expect(suites.length, m).toBeGreaterThan(0);
      for (const suite of suites) expect(exists(suite), `${m}: ${suite}`).toBe(true);
    }
  });
});

