import { existsSync, readdirSync } from 'node:fs';
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

/** Folders being restructured by other work (issue 13 items 1 and 3); mirrored when that lands. */
const RESTRUCTURING: Record<string, string> = {
  'src/oidc/': 'regrouped into the enforcement pipeline (issue 13 item 1); covered by test/oidc',
  'src/store/': 'split per backend and sub-store (issue 13 item 3); covered by the contract suites in test/store',
};

/** Modules with no behaviour of their own to test. */
const LOGIC_FREE: Record<string, string> = {
  'src/audit/types.ts': 'types and the list of event names',
  'src/orgs/types.ts': 'types only',
  'src/logout/types.ts': 'types only',
  'src/mfa/types.ts': 'types only',
  'src/sessions/types.ts': 'types and the list of activity sources',
  'src/sessions/policy-types.ts': 'types only',
  'src/types/oidc-provider.ts': 'a type augmentation; tsc checks its use',
  'src/types/koa.ts': 'a type augmentation; tsc checks its use (the getters that read it: test/admin/request-state.test.ts)',
  'src/config/schema.ts': 're-exports settings.ts',
  'src/config/write-readme-table.ts': 'a CLI around readme-table.ts, which test/config/readme-table.test.ts covers',
  'src/clock.ts': 'the system clock and a settable one; every test with a pinned clock uses it',
  'src/app.ts': 'the composition root: wires modules together; every HTTP test starts it (test/support/curfew.ts)',
  'src/main.ts': 'the process entry; test/e2e and test/config/load.test.ts start it as a process',
};

/**
 * Modules with logic but no mirrored test yet — a debt, not a permission: each names the
 * suites that exercise it today. Remove an entry when its mirrored test exists (this test then
 * insists); never add one for a new module.
 */
const NOT_YET_MIRRORED: Record<string, string[]> = {
  'src/accounts/authenticate.ts': ['test/accounts/lockout-race.test.ts', 'test/oidc/login-security.test.ts'],
  'src/accounts/passwords.ts': ['test/orgs/seed.test.ts', 'test/admin/routes.test.ts'],
  'src/admin/auth.ts': ['test/admin/routes.test.ts', 'test/admin/demoted-admin.test.ts'],
  'src/admin/console/console-client.ts': ['test/admin/console/routes.test.ts'],
  'src/admin/console/console-sessions.ts': ['test/admin/console/routes.test.ts', 'test/admin/demoted-admin.test.ts'],
  'src/admin/openapi.ts': ['test/admin/routes.test.ts'],
  'src/admin/operations/actions.ts': ['test/admin/operations/index.test.ts'],
  'src/admin/operations/clients.ts': ['test/admin/routes.test.ts', 'test/admin/partial-updates.test.ts', 'test/admin/operations/secrets.test.ts'],
  'src/admin/operations/context.ts': ['test/admin/routes.test.ts'],
  'src/admin/operations/deliveries.ts': ['test/admin/routes.test.ts', 'test/logout/backchannel.test.ts'],
  'src/admin/operations/parse.ts': ['test/admin/routes.test.ts', 'test/admin/partial-updates.test.ts'],
  'src/admin/operations/policy.ts': ['test/admin/routes.test.ts'],
  'src/admin/operations/sessions.ts': ['test/admin/routes.test.ts', 'test/admin/console/sessions.test.ts'],
  'src/admin/operations/users.ts': ['test/admin/routes.test.ts', 'test/admin/user-names.test.ts'],
  'src/admin/schemas.ts': ['test/admin/routes.test.ts', 'test/http/property.test.ts'],
  'src/compliance/control-receiver.ts': ['test/compliance/routes.test.ts'],
  'src/compliance/control-test.ts': ['test/compliance/routes.test.ts', 'test/compliance/schedule.test.ts'],
  'src/compliance/read-events.ts': ['test/compliance/routes.test.ts'],
  'src/compliance/render-pdf.ts': ['test/compliance/routes.test.ts'],
  'src/compliance/report-view.ts': ['test/compliance/routes.test.ts', 'test/compliance/console-page.test.ts'],
  'src/ops/ops-routes.ts': ['test/e2e/lifecycle.test.ts', 'test/ops/metrics.test.ts'],
  'src/http/views.ts': ['test/accounts/http/account-routes.test.ts', 'test/oidc/login-security.test.ts'],
  'src/mfa/service.ts': ['test/mfa/lockout-race.test.ts', 'test/mfa/enrollment-race.test.ts'],
  'src/orgs/delete-client.ts': ['test/admin/client-deletion.test.ts'],
  'src/sdk/sdk-routes.ts': ['test/sdk/session.test.ts'],
  'src/sessions/change-policy.ts': ['test/admin/routes.test.ts', 'test/sessions/enforcement.test.ts'],
};

function modules(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return modules(path);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const mirrorOf = (module: string) => module.replace(/^src\//, 'test/').replace(/\.(ts|js)$/, '.test.ts');
const exists = (path: string) => existsSync(join(ROOT, path));

describe('test/ mirrors src/', () => {
  const all = modules('src');
  const inScope = all.filter((m) => !Object.keys(RESTRUCTURING).some((folder) => m.startsWith(folder)));

  it('finds the source tree', () => {
    expect(all.length).toBeGreaterThan(50);
    expect(all).toContain('src/sessions/judge.ts');
  });

  it('has a mirrored test for every module with logic', () => {
    const missing = inScope.filter((m) => !exists(mirrorOf(m)) && !(m in LOGIC_FREE) && !(m in NOT_YET_MIRRORED));
    expect(missing, `write ${missing.map(mirrorOf).join(', ')}`).toEqual([]);
  });

  it('lists only modules that exist and still lack their mirrored test', () => {
    for (const m of [...Object.keys(LOGIC_FREE), ...Object.keys(NOT_YET_MIRRORED)]) {
      expect(exists(m), `${m} is gone: remove its entry`).toBe(true);
      expect(exists(mirrorOf(m)), `${mirrorOf(m)} exists: remove ${m}'s entry`).toBe(false);
    }
  });

  it('names suites that exist for every module not yet mirrored', () => {
    for (const [m, suites] of Object.entries(NOT_YET_MIRRORED)) {
      expect(suites.length, m).toBeGreaterThan(0);
      for (const suite of suites) expect(exists(suite), `${m}: ${suite}`).toBe(true);
    }
  });
});

