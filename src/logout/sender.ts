import type { Histogram } from 'prom-client';
import type { Audit } from '../audit/audit.ts';
import type { Logger } from '../logger.ts';
import { pollLoop } from '../workers/poll-loop.ts';
import type { DirectoryStore } from '../orgs/store.ts';
import type { ClientRecord } from '../orgs/types.ts';
import type { DeliveryStore } from './store.ts';
import type { Delivery } from './types.ts';
import { clientOrTombstone } from './enqueue.ts';
import { retryDelayMs } from './backoff.ts';
import { logoutTokenClaims, type LogoutTokenSigner } from './logout-token.ts';
import { createTokenPoster, type Outcome } from './post-token.ts';
import type { SigningPool } from './signing-pool.ts';
import { checkBackchannelUri } from './ssrf.ts';

export interface SenderOptions {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
  concurrencyPerClient: number;
  batch: number;
  tickMs: number;
  leaseMs: number;
  /** Each attempt signs a fresh token valid this long. */
  logoutTokenSeconds: number;
  allowlist: readonly string[];
}

/** Tests only: awaited after an RP acknowledged a token, before it is marked delivered. */
export type DeliveryFaults = (step: 'acknowledged', delivery: Delivery) => Promise<void>;

/** What the operator's signals hear of each delivery attempt: its outcome only. */
export interface DeliverySignals {
  attempted(outcome: 'delivered' | 'retrying' | 'dead'): void;
}

export interface SenderDeps {
  signals?: DeliverySignals;
  /** The queue it works, and the clients (deleted ones too) it delivers to. */
  store: { deliveries: DeliveryStore; directory: Pick<DirectoryStore, 'getClient' | 'getClientTombstone'> };
  audit: Audit;
  logger: Logger;
  issuer: string;
  sign: LogoutTokenSigner;
  /**
   * Signing threads (signing-pool.ts): when given, each token is signed and POSTed on one of
   * them instead of this event loop; `sign` is then unused. Closed by its owner, not the sender.
   */
  pool?: Pick<SigningPool, 'deliver' | 'available'>;
  options: SenderOptions;
  /** Seconds from a session's deadline to its token's delivery. */
  lag?: Histogram<'stage'>;
  faults?: DeliveryFaults;
}

export interface LogoutSender {
  /** Claims one batch of due deliveries and attempts each; resolves with how many it took. */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
  /** Tokens were just queued here: claim them now rather than at the next poll (`tickMs`). */
  wake(): void;
}

/** The longest an attempt's record waits for the other claimed tokens to go out first (at most a quarter of the lease's margin). */
const RECORD_WAIT_MS = 1_000;

/** Validates options once, naming the bad one, as every Curfew factory does. */
function checkOptions(o: SenderOptions): void {
  for (const name of ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'timeoutMs', 'concurrencyPerClient', 'batch', 'tickMs', 'leaseMs', 'logoutTokenSeconds'] as const) {
    if (!Number.isInteger(o[name]) || o[name] <= 0) throw new Error(`createLogoutSender: ${name} must be a positive integer`);
  }
  if (o.leaseMs <= o.timeoutMs) throw new Error('createLogoutSender: leaseMs must exceed timeoutMs, or a slow attempt would be claimed twice');
}

/**
 * Delivers queued logout tokens (SPEC §9): at-least-once, keep-alive connections with a
 * concurrency limit per RP origin, a timeout per attempt, exponential backoff with jitter,
 * 4xx other than 408/429 final, a dead letter after the last attempt. Every attempt is audited.
 */
export function createLogoutSender({ store, audit, logger, issuer, sign, pool, options, lag, faults, signals }: SenderDeps): LogoutSender {
  checkOptions(options);
  const log = logger.child({ component: 'backchannel' });
  const poster = createTokenPoster(options);

  type Recipient = Pick<ClientRecord, 'org' | 'backchannel_logout_uri' | 'id_token_signed_response_alg'>;

  /**
   * Who may receive this token, judged now rather than when it was queued (issue 10 item 8): the
   * client as it is, or as its tombstone left it, and only while it is the delivery's org's.
   * A token names a user and a session of that org: it never goes to a client another org holds.
   * `lookup` is the claim's: the deliveries claimed together look each client up once.
   */
  async function recipientOf(d: Delivery, lookup: (id: string) => Promise<Recipient | undefined>): Promise<Recipient | undefined> {
    const client = await lookup(d.client);
    return client?.org === d.org ? client : undefined;
  }

  /**
   * An acknowledged token is marked delivered even if the store blips right then (a restart):
   * retried until it succeeds or the claim's lease is nearly spent — after that another worker
   * may claim it anyway, and at-least-once allows the duplicate. Until then, no re-send.
   */
  async function markDelivered(id: string, leaseEndsAt: number): Promise<void> {
    for (let wait = 50; ; wait = Math.min(wait * 2, 1_000)) {
      try {
        await store.deliveries.complete(id);
        return;
      } catch (err) {
        if (Date.now() + wait >= leaseEndsAt) throw err;
        log.warn({ err, delivery: id }, 'marking a delivered logout token failed; retrying');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * Tokens first (issue 14): an attempt's outcome is recorded (store, audit) once no token this
   * worker claimed is still to be signed and posted, so on one event loop the last token of a
   * wave does not wait behind the records of the first ones. Bounded by RECORD_WAIT_MS, far
   * inside a claim's lease: a delivered token is marked long before another worker could claim
   * it again, and a crash while a record waits loses nothing (the claim is re-taken, at least once).
   */
  const recordWaitMs = Math.min(RECORD_WAIT_MS, Math.floor((options.leaseMs - options.timeoutMs) / 4));
  let unposted = 0;
  const waiting = new Set<() => void>();
  function postedOne(): void {
    if (--unposted > 0) return;
    for (const resume of waiting) resume();
    waiting.clear();
  }
  async function tokensFirst(): Promise<void> {
    if (unposted === 0) return;
    let timer: NodeJS.Timeout | undefined;
    let resume: () => void = () => {};
    await new Promise<void>((resolve) => {
      resume = resolve;
      waiting.add(resume);
      timer = setTimeout(resolve, recordWaitMs);
    });
    clearTimeout(timer);
    waiting.delete(resume);
  }

  /** Signs and posts (or finds it cannot); counted in `unposted` from its claim until here. */
  async function send(d: Delivery, now: number, lookup: (id: string) => Promise<Recipient | undefined>): Promise<Outcome> {
    try {
      const client = await recipientOf(d, lookup);
      const target = client?.backchannel_logout_uri ? checkBackchannelUri(client.backchannel_logout_uri, options.allowlist) : undefined;
      if (!client) return { kind: 'permanent', error: 'the client no longer belongs to the delivery\'s org' };
      if (!target) return { kind: 'permanent', error: 'the client has no backchannel_logout_uri any more' };
      if (!target.ok) return { kind: 'permanent', error: `backchannel_logout_uri ${target.reason}` };
      const claims = logoutTokenClaims({ issuer, clientId: d.client, sub: d.sub, sid: d.sid, nowMs: now, lifetimeSeconds: options.logoutTokenSeconds });
      const alg = client.id_token_signed_response_alg;
      // A pool whose threads cannot start leaves the tokens to this loop, as with no pool.
      if (pool?.available) return await pool.deliver({ claims, alg, url: target.url.href, allowListed: target.allowListed });
      return await poster.post(target.url, target.allowListed, await sign(claims, alg));
    } finally {
      postedOne();
    }
  }

  async function attempt(d: Delivery, now: number, leaseEndsAt: number, lookup: (id: string) => Promise<Recipient | undefined>): Promise<void> {
    const attemptNo = d.attempts + 1;
    const base = { org: d.org, user: d.sub, session: d.session, client: d.client };
    const outcome = await send(d, now, lookup);
    if (outcome.kind === 'delivered') await faults?.('acknowledged', d);
    await tokensFirst();

    if (outcome.kind === 'delivered') {
      await markDelivered(d.id, leaseEndsAt);
      lag?.observe({ stage: 'delivered' }, Math.max(0, now - d.endedAt) / 1000);
      signals?.attempted('delivered');
      await audit({ type: 'backchannel.delivered', ...base, data: { delivery: d.id, attempt: attemptNo, status: outcome.status, sid: d.sid, reason: d.reason } });
      return;
    }
    const final = outcome.kind === 'permanent' || attemptNo >= options.maxAttempts;
    if (final) {
      await store.deliveries.bury(d.id, attemptNo, outcome.error);
      signals?.attempted('dead');
      await audit({ type: 'backchannel.dead', ...base, data: { delivery: d.id, attempt: attemptNo, error: outcome.error, sid: d.sid } });
      log.warn({ delivery: d.id, client: d.client, attempt: attemptNo, error: outcome.error }, 'logout token dead-lettered');
      return;
    }
    const nextAttemptAt = now + retryDelayMs(attemptNo, options.baseDelayMs, options.maxDelayMs);
    await store.deliveries.retryLater(d.id, attemptNo, nextAttemptAt, outcome.error);
    signals?.attempted('retrying');
    await audit({ type: 'backchannel.retrying', ...base, data: { delivery: d.id, attempt: attemptNo, error: outcome.error, nextAttemptAt: new Date(nextAttemptAt).toISOString() } });
  }

  /**
   * Claims up to `room` due deliveries and starts an attempt at each; `done` settles when all
   * of them did. The claim is the lease: a crash anywhere after it leaves the delivery to be
   * claimed again when the lease runs out.
   */
  async function claimAndStart(room: number): Promise<{ claimed: number; done: Promise<void> }> {
    // Local time, for this instance's own retries only: the lease is judged by the shared clock.
    const leaseEndsAt = Date.now() + options.leaseMs - options.timeoutMs;
    const { deliveries, now } = await store.deliveries.claim(room, options.leaseMs);
    unposted += deliveries.length;
    const clients = new Map<string, Promise<Recipient | undefined>>();
    const lookup = (id: string) => {
      let found = clients.get(id);
      if (!found) clients.set(id, (found = clientOrTombstone(store.directory, id)));
      return found;
    };
    const attempts = deliveries.map((d) => attempt(d, now, leaseEndsAt, lookup).catch((err: unknown) => log.error({ err, delivery: d.id }, 'delivery attempt failed; it will be claimed again after its lease')));
    return { claimed: deliveries.length, done: Promise.all(attempts).then(() => undefined) };
  }

  async function tick(): Promise<number> {
    const { claimed, done } = await claimAndStart(options.batch);
    await done;
    return claimed;
  }

  /**
   * The worker does not wait for a batch's slowest attempt before claiming again: tokens queued
   * meanwhile (a wake) are claimed at once, as long as fewer than `batch` attempts are in flight.
   * When every slot is taken, the next finished attempt wakes it.
   */
  const inFlight = new Set<Promise<void>>();
  let attempting = 0;
  let full = false;
  async function work(): Promise<number> {
    const room = options.batch - attempting;
    full = room <= 0;
    if (full) return 0;
    const { claimed, done } = await claimAndStart(room);
    full = claimed === room;
    attempting += claimed;
    inFlight.add(done);
    void done.then(() => {
      inFlight.delete(done);
      attempting -= claimed;
      if (full) loop.wake();
    });
    return claimed;
  }

  const loop = pollLoop(work, { batch: options.batch, idleMs: options.tickMs, logger: log, what: 'delivering logout tokens' });
  return {
    tick,
    start: loop.start,
    wake: loop.wake,
    async stop() {
      await loop.stop();
      // The attempts still out finish (they are claimed: leaving them would only delay them a lease).
      await Promise.all(inFlight);
      await poster.close();
    },
  };
}
