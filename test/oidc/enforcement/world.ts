import { randomBytes } from 'node:crypto';
import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import { createAudit } from '../../../src/audit/audit.ts';
import { ManualClock } from '../../../src/clock.ts';
import { createLogger } from '../../../src/logger.ts';
import { createSecretBox } from '../../../src/mfa/secret-box.ts';
import { createMfaService } from '../../../src/mfa/service.ts';
import type { Org, User } from '../../../src/orgs/types.ts';
import { createSessionService, type SessionEnded } from '../../../src/sessions/service.ts';
import type { Policy } from '../../../src/sessions/policy-types.ts';
import { createIdentifierHasher } from '../../../src/store/identifier-hash.ts';
import { createMemoryStore } from '../../../src/store/memory/index.ts';

export const IDLE_SECONDS = 900;
/** The client `rp-short`'s RP sessions idle out after this, well before the SSO session. */
export const SHORT_IDLE_SECONDS = 60;

const policy: Policy = {
  idleTimeoutSeconds: IDLE_SECONDS,
  absoluteTimeoutSeconds: 43_200,
  warningSeconds: 120,
  mfa: 'reentry',
  refreshIsActivity: false,
  allowEnrollmentAtReentry: true,
  rules: [
    { name: 'short', match: { clients: ['rp-short'] }, idleTimeoutSeconds: SHORT_IDLE_SECONDS },
    { name: 'refreshing', match: { clients: ['rp-refresh'] }, refreshIsActivity: true },
  ],
  ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 604_800 },
};

/**
 * The real session and MFA services over the memory store, on a clock pinned from real now:
 * what the enforcement steps act on. One org (`acme`), its user `alice`; another org's `carol`.
 */
export async function enforcementWorld() {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  const hash = createIdentifierHasher('enforcement test identifier key');
  const logger = createLogger('silent');
  const audit = createAudit(store.audit, logger);
  const mfa = createMfaService({
    store: store.mfa,
    box: createSecretBox([{ kid: 'k1', key: randomBytes(32) }]),
    limiter: store.rateLimiter({ name: 'totp', points: 5, durationSeconds: 60, blockSeconds: 60 }),
    audit,
    clock,
    issuerLabel: 'Curfew test',
  });
  /** Every end the service finished, as its consequences saw it. */
  const ended: SessionEnded[] = [];
  const sessions = createSessionService({
    store,
    hash,
    audit,
    logger,
    endLeaseMs: 30_000,
    consequences: {
      'deliveries-queued': async (end) => {
        ended.push(end);
      },
      'step-up-required': async () => {},
    },
  });
  const org: Org = { id: 'acme', name: 'Acme', policy };
  const user: User = { id: 'alice', org: 'acme', username: 'alice', passwordHash: 'x', roles: [], disabled: false, createdAt: new Date(clock.now()).toISOString() };
  const otherOrg: Org = { id: 'globex', name: 'Globex', policy: { ...policy, mfa: 'always' } };
  const otherUser: User = { ...user, id: 'carol', org: 'globex', username: 'carol' };
  await store.directory.putOrg(org);
  await store.directory.putOrg(otherOrg);
  await store.directory.putUser(user);
  await store.directory.putUser(otherUser);

  /** A browser session `uid` signed in as `who`, with an RP session (sid `sid-<client>`) for each client. */
  async function signIn(uid: string, clients: string[] = ['rp'], who: User = user) {
    await sessions.recordLogin({ uid, user: who, org: who === user ? org : otherOrg, ip: '192.0.2.1', client: clients[0] });
    for (const client of clients) await sessions.recordRp({ uid, client, sid: `sid-${client}` });
  }

  return { clock, store, sessions, mfa, ended, org, user, otherUser, directory: store.directory, signIn };
}

export type EnforcementWorld = Awaited<ReturnType<typeof enforcementWorld>>;

/** What of oidc-provider's per-request context a step reads; the rest of a request is not needed. */
export interface OidcRequest {
  route?: string;
  session?: {
    uid: string;
    accountId?: string;
    acr?: string;
    authorizations?: Record<string, { sid?: string; grantId?: string }>;
    sidFor?(clientId: string): string | undefined;
  };
  client?: { clientId: string; org?: string };
  account?: Account;
  result?: { login?: unknown };
  params?: Record<string, unknown>;
  prompts?: Set<string>;
}

/** A koa context carrying `oidc` as the provider's routes do (the steps' input, built by hand). */
export function oidcContext(oidc: OidcRequest, extra: { status?: number; ip?: string } = {}): KoaContextWithOIDC {
  const ctx = { oidc: { prompts: new Set<string>(), params: {}, ...oidc }, status: extra.status ?? 404, ip: extra.ip ?? '192.0.2.1' };
  // The steps are typed against the library's full context; this one holds what they read.
  return ctx as unknown as KoaContextWithOIDC;
}
