import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { enqueueLogoutTokens } from '../../src/logout/enqueue.ts';
import { createSecretBox } from '../../src/mfa/secret-box.ts';
import { createMfaService } from '../../src/mfa/service.ts';
import { stepUpAfterTimeouts } from '../../src/mfa/step-up.ts';
import type { ClientRecord, Org, User } from '../../src/orgs/types.ts';
import { createSessionService, type EndConsequences } from '../../src/sessions/service.ts';
import { createSweeper } from '../../src/sessions/sweeper.ts';
import { createIdentifierHasher } from '../../src/store/identifier-hash.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

const IDLE_SECONDS = 900;

/**
 * The README's deadline walk, end to end without HTTP: sweeper → session service → the end's
 * consequences (logout/enqueue.ts, mfa/step-up.ts) → a delivery in the store.
 */
describe('an idle deadline, from the sweeper to the queued logout token', () => {
  async function world() {
    const clock = new ManualClock(Date.now());
    const store = createMemoryStore({ clock });
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
    const order: string[] = [];
    const queue = enqueueLogoutTokens(store);
    const stepUp = stepUpAfterTimeouts(store.directory, mfa);
    const consequences: EndConsequences = {
      'deliveries-queued': async (ended) => {
        order.push('deliveries-queued');
        await queue(ended);
      },
      'step-up-required': async (ended) => {
        order.push('step-up-required');
        await stepUp(ended);
      },
    };
    const sessions = createSessionService({ store, hash: createIdentifierHasher('deadline walk key'), audit, logger, endLeaseMs: 30_000, consequences });
    const sweeper = createSweeper({ store: store.sessions, sessions, logger }, { tickMs: 1_000, batch: 10, leaseMs: 30_000 });
    const org: Org = {
      id: 'acme',
      name: 'Acme',
      policy: { idleTimeoutSeconds: IDLE_SECONDS, absoluteTimeoutSeconds: 43_200, warningSeconds: 120, mfa: 'reentry', refreshIsActivity: false, allowEnrollmentAtReentry: true, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 604_800 } },
    };
    const user: User = { id: 'alice', org: 'acme', username: 'alice', passwordHash: 'x', roles: [], disabled: false, createdAt: new Date(clock.now()).toISOString() };
    const client: ClientRecord = {
      client_id: 'rp',
      org: 'acme',
      redirect_uris: ['https://rp.example/cb'],
      post_logout_redirect_uris: [],
      backchannel_logout_uri: 'https://rp.example/backchannel',
      backchannel_logout_session_required: true,
      adminApi: false,
      firstParty: true,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      id_token_signed_response_alg: 'RS256',
      createdAt: new Date(clock.now()).toISOString(),
    };
    await store.directory.putOrg(org);
    await store.directory.putUser(user);
    await store.directory.putClient(client);
    await sessions.recordLogin({ uid: 's1', user, org, ip: undefined, client: 'rp' });
    await sessions.recordRp({ uid: 's1', client: 'rp', sid: 'sid-1' });
    return { clock, store, sessions, sweeper, mfa, order };
  }

  it('ends nothing 1 ms before the deadline', async () => {
    const w = await world();
    w.clock.advance(IDLE_SECONDS * 1000 - 1);
    await w.sweeper.tick();
    expect(await w.sessions.get('s1')).toBeDefined();
    expect(w.order).toEqual([]);
    expect(await w.store.deliveries.list('acme', 'pending')).toEqual([]);
  });

  it('at the deadline: ends the session, queues the RP\'s logout token first, then asks for step-up', async () => {
    const w = await world();
    const deadline = w.clock.now() + IDLE_SECONDS * 1000;
    w.clock.advance(IDLE_SECONDS * 1000);
    expect(await w.sweeper.tick()).toBe(1);
    expect(await w.sessions.get('s1')).toBeUndefined();
    expect(w.order).toEqual(['deliveries-queued', 'step-up-required']);
    const [delivery, ...more] = await w.store.deliveries.list('acme', 'pending');
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({ client: 'rp', sid: 'sid-1', sub: 'alice', reason: 'idle', uri: 'https://rp.example/backchannel', endedAt: deadline });
    expect(await w.mfa.stepUpRequired('alice', 'rp')).toBe(true);
    // The end was finished by its ender: nothing is left in the outbox for a worker.
    expect(await w.store.ended.size()).toBe(0);
  });
});
