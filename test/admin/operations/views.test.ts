import { describe, expect, it } from 'vitest';
import { publicClient, publicUser, sessionView } from '../../../src/admin/operations/views.ts';
import type { ClientRecord, User } from '../../../src/orgs/types.ts';
import type { SsoSession } from '../../../src/sessions/types.ts';

const T0 = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();

describe('what admins see', () => {
  it('a user without the password hash', () => {
    const user: User = { id: 'u1', org: 'acme', username: 'alice', passwordHash: '$argon2id$secret', roles: ['admin'], disabled: false, createdAt: iso(T0) };
    const view = publicUser(user);
    expect(view).toEqual({ id: 'u1', org: 'acme', username: 'alice', roles: ['admin'], disabled: false, createdAt: iso(T0) });
    expect(JSON.stringify(view)).not.toContain('argon2id');
  });

  it('a client without its secret hash: only whether it has one, and whether it is Curfew\'s own', () => {
    const client: ClientRecord = {
      client_id: 'curfew-console-acme', org: 'acme', client_secret_hash: 'sealed-hash', redirect_uris: [], post_logout_redirect_uris: [],
      backchannel_logout_session_required: true, adminApi: false, firstParty: true, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [], id_token_signed_response_alg: 'RS256', createdAt: iso(T0),
    };
    const view = publicClient(client);
    expect(view).toMatchObject({ client_id: 'curfew-console-acme', hasSecret: true, internal: true });
    expect(view).not.toHaveProperty('client_secret_hash');
    const { client_secret_hash: _, ...noSecret } = client;
    expect(publicClient({ ...noSecret, client_id: 'app' })).toMatchObject({ hasSecret: false, internal: false });
  });

  it('a session with its deadlines and its live RP sessions only, each capped by the SSO session', () => {
    const session: SsoSession = {
      id: 'uid-1', org: 'acme', user: 'u1', ip: '10.0.0.1', signedInAt: T0, lastActiveAt: T0 + 60_000, idleSeconds: 900, absoluteSeconds: 3600,
      warningSeconds: 60, refreshIsActivity: false,
      rps: {
        app: { client: 'app', sid: 's1', sidKey: 'k1', startedAt: T0, lastActiveAt: T0 + 60_000, idleSeconds: 3600, absoluteSeconds: 7200 },
        gone: { client: 'gone', sid: 's2', sidKey: 'k2', startedAt: T0, lastActiveAt: T0, idleSeconds: 60, absoluteSeconds: 60, endedAt: T0 + 1 },
      },
    };
    expect(sessionView(session)).toEqual({
      id: 'uid-1', user: 'u1', ip: '10.0.0.1', signedInAt: iso(T0), lastActiveAt: iso(T0 + 60_000),
      idleExpiresAt: iso(T0 + 960_000), absoluteExpiresAt: iso(T0 + 3_600_000), expiresAt: iso(T0 + 960_000),
      rpSessions: [{ client: 'app', sid: 's1', startedAt: iso(T0), lastActiveAt: iso(T0 + 60_000), idleExpiresAt: iso(T0 + 960_000), absoluteExpiresAt: iso(T0 + 3_600_000), expiresAt: iso(T0 + 960_000) }],
    });
  });
});
