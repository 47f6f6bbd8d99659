import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEnforcement, endpointOf, enforcementTable } from '../../../src/oidc/enforcement/index.ts';
import { enforcementWorld, IDLE_SECONDS, oidcContext } from './world.ts';

describe('the enforcement table (src/oidc/enforcement/index.ts)', () => {
  it('names one step per file, each at the endpoints that run it', async () => {
    const w = await enforcementWorld();
    const table = enforcementTable({ ...w, accessTokenSeconds: 600 });
    const rows = Object.entries(table).flatMap(([stage, list]) => list.map((row) => [stage, row.name, row.endpoints.join(' ')]));
    expect(rows).toEqual([
      ['prompt', 'require-account', 'authorization resume'],
      ['prompt', 'judge-sso-session', 'authorization resume'],
      ['prompt', 'require-second-factor', 'authorization resume'],
      ['prompt', 'require-org-membership', 'authorization resume'],
      ['load', 'bind-token-to-rp-session', 'token:authorization_code token:refresh_token userinfo introspection revocation'],
      ['save', 'note-code-issued', 'authorization resume'],
      ['ttl', 'cap-access-token-ttl', 'token:authorization_code token:refresh_token'],
      ['after', 'await-activity-count', 'authorization resume'],
      ['after', 'record-sign-in', 'authorization resume'],
      ['after', 'record-rp-session', 'authorization resume'],
      ['after', 'refresh-activity', 'token:refresh_token'],
      ['after', 'record-logout', 'end_session_confirm'],
    ]);
    const folder = join(import.meta.dirname, '../../../src/oidc/enforcement');
    for (const [, name] of rows) expect(existsSync(join(folder, `${name}.ts`)), `${name}.ts`).toBe(true);
  });

  it('adds the prompt steps to the login prompt in the table\'s order', async () => {
    const w = await enforcementWorld();
    const { loginChecks } = createEnforcement({ ...w, accessTokenSeconds: 600 });
    expect(loginChecks.map((check) => check.reason)).toEqual(['account_unavailable', 'session_ended', 'mfa_required', 'org_mismatch']);
  });

  it('tells token requests apart by grant type', () => {
    expect(endpointOf(oidcContext({ route: 'token', params: { grant_type: 'refresh_token' } }).oidc)).toBe('token:refresh_token');
    expect(endpointOf(oidcContext({ route: 'authorization' }).oidc)).toBe('authorization');
    expect(endpointOf(oidcContext({}).oidc)).toBeUndefined();
  });
});

describe('createEnforcement', () => {
  it('runs an endpoint\'s after steps once the provider answered, and no other endpoint\'s', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp']);
    const { afterResponse } = createEnforcement({ ...w, accessTokenSeconds: 600 });
    const logout = (route: string) => oidcContext({ route, session: { uid: 's1' }, params: { logout: 'yes' } });
    await afterResponse(logout('userinfo'), async () => {});
    expect(await w.sessions.get('s1')).toBeDefined();
    let answered = false;
    await afterResponse(logout('end_session_confirm'), async () => {
      answered = true;
      // The provider has not answered yet: the session still lives.
      expect(await w.sessions.get('s1')).toBeDefined();
    });
    expect(answered).toBe(true);
    expect(await w.sessions.get('s1')).toBeUndefined();
  });

  it('judges a session-bound token even outside a provider request, so no caller skips it', async () => {
    const w = await enforcementWorld();
    await w.signIn('s1', ['rp']);
    const { tokenLoaded, accessTokenTtl } = createEnforcement({ ...w, accessTokenSeconds: 600 });
    expect(await tokenLoaded({ sessionUid: 's1', clientId: 'rp' })).toBe(true);
    w.clock.advance(IDLE_SECONDS * 1000);
    expect(await tokenLoaded({ sessionUid: 's1', clientId: 'rp' })).toBe(false);
    expect(accessTokenTtl(undefined)).toBe(600);
  });
});
