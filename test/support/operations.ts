import { randomBytes } from 'node:crypto';
import type { AdminActor } from '../../src/admin/operations/actions.ts';
import type { OperationDeps } from '../../src/admin/operations/context.ts';
import { createAudit } from '../../src/audit/audit.ts';
import type { AuditEventType } from '../../src/audit/types.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { createSecretBox } from '../../src/mfa/secret-box.ts';
import { createMfaService } from '../../src/mfa/service.ts';
import { createClientSecrets } from '../../src/orgs/client-secret.ts';
import type { ClientRecord, Org, User } from '../../src/orgs/types.ts';
import { changePolicy } from '../../src/sessions/change-policy.ts';
import type { Policy } from '../../src/sessions/policy-types.ts';
import { createSessionService, type EndListener, type SessionEnded } from '../../src/sessions/service.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

export const IDLE = 900;
export const ABSOLUTE = 8 * 3600;

export const policy = (over: Partial<Policy> = {}): Policy => ({
  idleTimeoutSeconds: IDLE, absoluteTimeoutSeconds: ABSOLUTE, warningSeconds: 120, mfa: 'off', refreshIsActivity: false,
  allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 31 * 86_400 }, ...over,
});

/** Not an argon2 hash: these users never sign in here, and hashing would only slow the suite. */
const user = (id: string, org: string, username: string, roles: string[] = []): User => ({
  id, org, username, passwordHash: 'not-a-hash', roles, disabled: false, createdAt: new Date().toISOString(),
});

export const client = (id: string, org: string, over: Partial<ClientRecord> = {}): ClientRecord => ({
  client_id: id, org, redirect_uris: ['https://app.example/callback'], post_logout_redirect_uris: [], backchannel_logout_uri: 'https://app.example/bcl',
  backchannel_logout_session_required: true, adminApi: false, firstParty: true, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
  id_token_signed_response_alg: 'RS256', createdAt: new Date().toISOString(), ...over,
});

/**
 * The admin operations' dependencies as app.ts wires them, over the memory store with a clock
 * pinned from real now: two orgs (acme, globex), acme's admin alice and staff bob, globex's
 * carol, a client each. disableUser and deleteUser do what app.ts's do. Every end the session
 * service hands to its consequences is kept in `ended`; `deliver` stands where app.ts queues
 * the logout tokens (src/logout/enqueue.ts, tested on its own).
 */
export async function operationsFixture(options: { deliver?: EndListener } = {}) {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  const logger = createLogger('silent');
  const audit = createAudit(store.audit, logger);
  const ended: SessionEnded[] = [];
  const sessions = createSessionService({
    store, hash: createIdentifierHasher('k'.repeat(32)), audit, logger, endLeaseMs: 30_000,
    consequences: {
      'deliveries-queued': async (end) => {
        ended.push(end);
        await options.deliver?.(end);
      },
      'step-up-required': async () => {},
    },
  });
  const mfa = createMfaService({
    store: store.mfa, box: createSecretBox([{ kid: 'k1', key: randomBytes(32) }]), audit, clock, issuerLabel: 'Curfew Test',
    limiter: store.rateLimiter({ name: 'mfa', points: 5, durationSeconds: 900, blockSeconds: 900 }),
  });
  const acme: Org = { id: 'acme', name: 'Acme', policy: policy() };
  const globex: Org = { id: 'globex', name: 'Globex', policy: policy() };
  const alice = user('u-alice', 'acme', 'alice', ['admin']);
  const bob = user('u-bob', 'acme', 'bob', ['staff']);
  const carol = user('u-carol', 'globex', 'carol', ['admin']);
  for (const org of [acme, globex]) await store.directory.putOrg(org);
  for (const u of [alice, bob, carol]) await store.directory.putUser(u);
  await store.directory.createClient(client('acme-app', 'acme'));
  await store.directory.createClient(client('globex-app', 'globex'));

  const deps: OperationDeps = {
    store, sessions, mfa, audit,
    backchannelAllowlist: ['http://127.0.0.1:*'],
    clientSecrets: createClientSecrets('i'.repeat(32)),
    changePolicy: (org, p, actor) => changePolicy({ directory: store.directory, sessions, audit }, org, p, actor),
    async disableUser(userId) {
      const found = await store.directory.getUser(userId);
      if (!found) return;
      await store.directory.putUser({ ...found, disabled: true });
      await sessions.endUserSessions(userId, 'user_disabled');
    },
    async deleteUser(userId) {
      await sessions.endUserSessions(userId, 'user_disabled');
      await store.directory.deleteUser(userId);
      await mfa.reset(userId);
    },
  };
  const byAcme: AdminActor = { org: 'acme', actor: 'user:u-alice' };
  const byGlobex: AdminActor = { org: 'globex', actor: 'user:u-carol' };

  /** A live SSO session of `u` signed in now, with an RP session at each client named. */
  async function signIn(uid: string, u: User, clients: string[] = []) {
    const org = (await store.directory.getOrg(u.org))!;
    await sessions.recordLogin({ uid, user: u, org, ip: undefined });
    for (const c of clients) await sessions.recordRp({ uid, client: c, sid: `sid-${uid}-${c}` });
  }
  const audited = async (type: AuditEventType, org = 'acme') => (await store.audit.query({ org, type, limit: 500 })).items;
  const writes = async (org = 'acme') => (await audited('admin.write', org)).map((e) => e.data);

  return { clock, store, sessions, ended, mfa, audit, deps, acme, globex, alice, bob, carol, byAcme, byGlobex, signIn, audited, writes, close: () => store.close() };
}

export type OperationsFixture = Awaited<ReturnType<typeof operationsFixture>>;
