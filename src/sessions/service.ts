import type { Audit } from '../audit/audit.ts';
import type { Logger } from '../logger.ts';
import type { Policy } from './policy-types.ts';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { AuditStore } from '../audit/store.ts';
import type { EndedOutbox, SessionStore } from './store.ts';
import type { EndedEntry, Ending, SessionLimitsUpdate } from './types.ts';
import { deathCause, expiresAt, isAlive, rpDeadlines, ssoDeadlines, warningAt, type Deadlines } from './deadlines.ts';
import { effectiveLimits, label, type RpLimits } from './effective-limits.ts';
import { judge } from './judge.ts';
import type { Activity, ActivitySource, EndReason, SessionCheck, SsoSession } from './types.ts';

/**
 * What a session end hands to whoever must act on it: its outbox entry (`EndedEntry` in the
 * `EndedOutbox` of src/sessions/store.ts, removed once everything is done) without the store's bookkeeping.
 */
export type SessionEnded = Omit<EndedEntry, 'endedAt' | 'queued'>;

/**
 * Acts on an end. Runs from the outbox, so after a crash it may run again for the same end:
 * it must be idempotent, and it throws when it failed (the entry is then processed again).
 */
export type EndListener = (ended: SessionEnded) => Promise<void>;

/**
 * What every end owes beyond the store, in the order it is done (each named for its fault seam).
 * Given to the service at creation, so following an end from its deadline to the RP's logout
 * token reads straight through `finish` below into these modules.
 */
export interface EndConsequences {
  /** SPEC §9: one logout token per RP session, queued durably (src/logout/enqueue.ts). */
  'deliveries-queued': EndListener;
  /** SPEC §8: a timeout or revocation asks for TOTP at the next sign-in (src/mfa/step-up.ts). */
  'step-up-required': EndListener;
}

/** The sign-in's user and org, as the session needs them (the directory's records fit). */
export interface SignInSubject {
  user: { id: string; roles: string[] };
  org: { id: string; policy: Policy };
}

/** What a session check found, for the enforcement-decision signal. */
export type Decision = 'alive' | 'dead' | 'missing';

/** What the operator's signals hear from sessions (bounded: scopes, reasons, outcomes; never ids). */
export interface SessionSignals {
  started(scope: 'sso' | 'rp'): void;
  /** `lateMs`: from the deadline that ended it to its end being processed (timeouts only). */
  ended(scope: 'sso' | 'rp', reason: EndReason, lateMs?: number): void;
  decided(outcome: Decision): void;
}

/** A check's outcome: the session (and the named client's RP session) alive, dead, or unknown. */
export function decisionOf(check: SessionCheck, client: string | undefined): Decision {
  if (!check.session) return 'missing';
  if (client !== undefined && !check.session.rps[client]) return 'missing';
  return check.sso === 'alive' && (client === undefined || check.rp === 'alive') ? 'alive' : 'dead';
}

/** What a consequence does, named for the fault seam (a test can stop right after it). */
export type ConsequenceStep = keyof EndConsequences;

/**
 * The steps of an end, in order: the store's atomic end (which records the outbox entry), the
 * grants' revocation, each consequence, the audit event; then the entry is completed.
 */
export type EndStep = 'ended' | 'grants-revoked' | ConsequenceStep | 'audited';

/**
 * Tests only: awaited after each step of an end, so a test can crash Redis or the process
 * between any two. Production passes nothing.
 */
export type EndFaults = (step: EndStep, ended: SessionEnded) => Promise<void>;

/** SPEC §7: the body of /session/status and /session/activity. */
export type SessionStatus =
  | { active: false }
  | { active: true; idleExpiresAt: string; absoluteExpiresAt: string; warningAt: string; expiresAt: string };

export interface EndOptions {
  /** `finished` (the default): after everything the end owes; `once-durable`: after the store's atomic end. */
  answer?: 'finished' | 'once-durable';
  /** With `once-durable`: when to start finishing (the answer has left); by default the event loop's next turn. */
  after?: Promise<unknown>;
}

export interface SessionService {
  /** A finished sign-in in browser session `uid` (SPEC §3: a step-up keeps the absolute limit). */
  recordLogin(input: SignInSubject & { uid: string; ip: string | undefined; client?: string }): Promise<SsoSession>;
  /** The first code for a client in this SSO session starts its RP session. */
  recordRp(input: { uid: string; client: string; sid: string; grantId?: string }): Promise<void>;
  /**
   * Judges the session (and the client's RP session) now, moving lastActiveAt on active signals.
   * A session found past its deadline is ended here and then — enforcement never waits for a sweeper.
   * An active signal that kept a live session alive is counted under `source` (SPEC §10).
   */
  check(uid: string, client: string | undefined, activity: Activity, source?: ActivitySource): Promise<SessionCheck>;
  /**
   * `check`, answering once the session is judged: the active signal is counted under `source`
   * meanwhile, and `counted` settles once that count is stored (at once when nothing is
   * counted). The caller awaits it before its answer leaves, so the count costs no round trip
   * of its own yet a failed count still fails the request.
   */
  checkCountingLater(uid: string, client: string | undefined, activity: Activity, source: ActivitySource): Promise<{ check: SessionCheck; counted: Promise<void> }>;
  /** The account page's "stay signed in": an active signal for the SSO session and all its RPs. */
  stayActive(uid: string): Promise<SessionCheck>;
  get(uid: string): Promise<SsoSession | undefined>;
  /**
   * Status of an RP session by its sid, for its own client; `activity` per SPEC §7. An answer
   * given inside the warning window records `session.warned`, once per window.
   */
  statusBySid(sid: string, client: string, activity: Activity, source?: ActivitySource): Promise<SessionStatus>;
  /** `statusBySid` with the shared clock's now it was judged at (for the Curfew-Now header). */
  statusBySidAt(sid: string, client: string, activity: Activity, source?: ActivitySource): Promise<{ status: SessionStatus; now: number }>;
  /**
   * Ends the SSO session and its RP sessions. Resolves once the end is finished (tokens queued,
   * audited) — or, with `answer: 'once-durable'`, once the store has recorded it with its outbox
   * entry: the rest runs after, and should this process die first a worker finishes it after
   * the entry's lease (a user's "sign me out" need not wait on seven more round trips).
   */
  end(uid: string, reason: EndReason, options?: EndOptions): Promise<SessionEnded | undefined>;
  endRp(uid: string, client: string, reason: EndReason, options?: EndOptions): Promise<SessionEnded | undefined>;
  /** Resolves when every end answered before it was finished (`once-durable`) is finished: for shutdown. */
  settle(): Promise<void>;
  /** Ends every session of a user (admin revocation of all, user disabled or deleted). */
  endUserSessions(userId: string, reason: EndReason): Promise<number>;
  /**
   * The sweeper's step for one session found by the deadline index: judges it and every live
   * RP session now, ending what is past its deadline. Returns how many ends it caused.
   */
  sweep(sessionKey: string): Promise<number>;
  /** Recomputes every live session of the org with its current policy; ends those past a new deadline. */
  applyPolicy(org: string): Promise<{ recomputed: number; ended: number }>;
  /**
   * The outbox worker's step: claims up to `limit` ended-session entries whose lease ran out
   * (their ender died or failed) and finishes each. Returns how many it claimed.
   */
  finishPending(limit: number, leaseMs: number): Promise<number>;
  /** The org's live sessions (optionally of one user, or with a live RP session of one client). */
  list(org: string, filter?: { user?: string; client?: string }): Promise<SsoSession[]>;
}

/** RP sessions not already ended on their own (those were handled when they ended). */
const liveRps = (session: SsoSession) => Object.values(session.rps).filter((rp) => rp.endedAt === undefined);

export function statusBody(deadlines: Deadlines | undefined, warningSeconds: number, alive: boolean): SessionStatus {
  if (!alive || !deadlines) return { active: false };
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    active: true,
    idleExpiresAt: iso(deadlines.idleAt),
    absoluteExpiresAt: iso(deadlines.absoluteAt),
    warningAt: iso(warningAt(deadlines, warningSeconds)),
    expiresAt: iso(expiresAt(deadlines)),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * SPEC §10: what an auditor asks of an end — when the user was last active, how long they had
 * been idle when the session ended (up to the deadline for a timeout, up to now otherwise),
 * the deadline that passed, and how late the end was processed after it.
 */
export function endStory(ended: Pick<SessionEnded, 'scope' | 'session' | 'rps' | 'deadlineAt'>, processedAt: number) {
  const lastActiveAt = ended.scope === 'rp' && ended.rps[0] ? ended.rps[0].lastActiveAt : ended.session.lastActiveAt;
  const endAt = ended.deadlineAt ?? processedAt;
  return {
    lastActiveAt: iso(lastActiveAt),
    idleSeconds: Math.max(0, Math.round((endAt - lastActiveAt) / 1000)),
    ...(ended.deadlineAt !== undefined ? { deadline: iso(ended.deadlineAt), lateMs: Math.max(0, processedAt - ended.deadlineAt) } : {}),
    processedAt: iso(processedAt),
    activity: ended.session.activity ?? {},
  };
}

/**
 * The parts of the store sessions use: their own ports, the audit log's (was an end audited?), and
 * narrow views of the directory and of oidc-provider's grants that the aggregate Store fits.
 */
export interface SessionServiceStore {
  sessions: SessionStore;
  ended: EndedOutbox;
  audit: Pick<AuditStore, 'query'>;
  /** The org's policy and the user's roles set a session's limits (src/orgs/store.ts's DirectoryStore fits). */
  directory: {
    getOrg(id: string): Promise<SignInSubject['org'] | undefined>;
    getUser(id: string): Promise<SignInSubject['user'] | undefined>;
  };
  /** An ended RP session's grant dies with it (the store's ModelStore fits). */
  models: { revokeByGrantId(grantId: string): Promise<void> };
  /** The shared clock. */
  now(): Promise<number>;
}

export interface SessionServiceDeps {
  store: SessionServiceStore;
  hash: IdentifierHasher;
  audit: Audit;
  logger: Logger;
  /** How long an end's outbox entry stays its ender's before a worker takes it over. */
  endLeaseMs: number;
  /** What every end owes beyond the store: the logout tokens, the step-up requirement. */
  consequences: EndConsequences;
  faults?: EndFaults;
  signals?: SessionSignals;
}

const toEnded = ({ id, reason, scope, session, rps, deadlineAt }: EndedEntry): SessionEnded => ({ id, reason, scope, session, rps, ...(deadlineAt !== undefined ? { deadlineAt } : {}) });

export function createSessionService({ store, hash, audit, logger, endLeaseMs, consequences, faults, signals }: SessionServiceDeps): SessionService {
  const log = logger.child({ component: 'sessions' });
  const key = (uid: string) => hash(`sso:${uid}`);
  const sidKey = (sid: string) => hash(`sid:${sid}`);

  async function limitsFor(session: Pick<SsoSession, 'org' | 'user' | 'ip'>, clients: string[]) {
    const [org, user] = await Promise.all([store.directory.getOrg(session.org), store.directory.getUser(session.user)]);
    if (!org || !user) return undefined;
    const subject = { roles: user.roles, ...(session.ip ? { ip: session.ip } : {}) };
    const sso = effectiveLimits(org.policy, subject).sso;
    const rps: SessionLimitsUpdate['rps'] = {};
    const rp: Record<string, RpLimits> = {};
    for (const client of clients) {
      const limits = effectiveLimits(org.policy, { ...subject, client }).rp!;
      rp[client] = limits;
      rps[client] = { idleSeconds: limits.idle.seconds, absoluteSeconds: limits.absolute.seconds, refreshIsActivity: limits.refreshIsActivity.value };
    }
    return { policy: org.policy, rp, update: { idleSeconds: sso.idle.seconds, absoluteSeconds: sso.absolute.seconds, warningSeconds: org.policy.warningSeconds, refreshIsActivity: org.policy.refreshIsActivity, rps } };
  }

  const ending = (key: string, reason: EndReason, deadlineAt: number | undefined): Ending => ({ id: store.sessions.endingId(key), reason, leaseMs: endLeaseMs, ...(deadlineAt !== undefined ? { deadlineAt } : {}) });

  async function alreadyAudited({ id, session }: SessionEnded): Promise<boolean> {
    const { items } = await store.audit.query({ org: session.org, session: session.id, type: 'session.ended', limit: 100 });
    return items.some((e) => e.data?.end === id);
  }

  /**
   * Everything an end owes after the store recorded it, each step idempotent, then the outbox
   * entry is completed. A failure leaves the entry for a worker after its lease.
   */
  async function finish(ended: SessionEnded, again = false): Promise<void> {
    const { session, rps, reason } = ended;
    // The grants' tokens die with their RP sessions, whatever else still holds them.
    await Promise.all(rps.filter((rp) => rp.grantId).map((rp) => store.models.revokeByGrantId(hash(rp.grantId!))));
    await faults?.('grants-revoked', ended);
    // The tokens first: what RPs are owed is queued before anything else an end does.
    await consequences['deliveries-queued'](ended);
    await faults?.('deliveries-queued', ended);
    await consequences['step-up-required'](ended);
    await faults?.('step-up-required', ended);
    // An entry taken over from an ender that died may have been audited already: once is enough.
    if (!again || !(await alreadyAudited(ended))) {
      const story = endStory(ended, await store.now());
      await audit({
        type: 'session.ended',
        org: session.org,
        user: session.user,
        session: session.id,
        ...(ended.scope === 'rp' ? { client: rps[0]!.client } : {}),
        data: { reason, scope: ended.scope, clients: rps.map((rp) => rp.client), end: ended.id, ...story },
      });
      signals?.ended(ended.scope, reason, story.lateMs);
    }
    await faults?.('audited', ended);
    await store.ended.complete(ended.id);
  }

  /**
   * The ender finishes its own end at once (its entry is leased to it), so RPs hear of it
   * without waiting for a worker. The end itself is already durable: if finishing fails, the
   * caller is not failed for it — a worker finishes the entry after its lease.
   */
  async function finishNow(ended: SessionEnded): Promise<SessionEnded> {
    try {
      await faults?.('ended', ended);
      await finish(ended);
    } catch (err) {
      log.error({ err, session: ended.session.id, end: ended.id }, 'finishing a session end failed; a worker finishes it after its lease');
    }
    return ended;
  }

  const noop = () => {};
  /** Ends answered before they were finished (EndOptions `once-durable`), until they are. */
  const finishing = new Set<Promise<SessionEnded>>();
  function finishFor(ended: SessionEnded, options: EndOptions | undefined): Promise<SessionEnded> | SessionEnded {
    if (options?.answer !== 'once-durable') return finishNow(ended);
    // Started once the answer that did not wait for it has left, so the two do not compete.
    const answered = options.after ?? new Promise<void>((next) => setImmediate(next));
    const running = answered.then(noop, noop).then(() => finishNow(ended)).finally(() => finishing.delete(running));
    finishing.add(running);
    return ended;
  }

  async function endSso(uid: string, reason: EndReason, deadlineAt?: number, options?: EndOptions): Promise<SessionEnded | undefined> {
    const end = ending(key(uid), reason, deadlineAt);
    const session = await store.sessions.end(key(uid), end);
    return session ? finishFor({ id: end.id, reason, scope: 'sso', session, rps: liveRps(session), ...(deadlineAt !== undefined ? { deadlineAt } : {}) }, options) : undefined;
  }

  async function endRp(uid: string, client: string, reason: EndReason, deadlineAt?: number, options?: EndOptions): Promise<SessionEnded | undefined> {
    const end = ending(key(uid), reason, deadlineAt);
    const session = await store.sessions.get(key(uid));
    const rp = session ? await store.sessions.endRp(key(uid), client, end) : undefined;
    return session && rp ? finishFor({ id: end.id, reason, scope: 'rp', session, rps: [rp], ...(deadlineAt !== undefined ? { deadlineAt } : {}) }, options) : undefined;
  }

  /** Ends whatever the check found dead, with the deadline that passed as the reason. */
  async function settle(uid: string, client: string | undefined, check: SessionCheck): Promise<void> {
    if (!check.session) return;
    if (check.sso === 'dead') {
      const sso = ssoDeadlines(check.session);
      await endSso(uid, deathCause(sso, check.now) ?? 'idle', expiresAt(sso));
    } else if (client !== undefined && check.rp === 'dead' && check.deadlines) {
      const ended = check.session.rps[client]?.endedAt;
      if (ended === undefined) await endRp(uid, client, deathCause(check.deadlines, check.now) ?? 'idle', expiresAt(check.deadlines));
    }
  }

  /** Judges the session now; an active signal that kept it alive is counted under `source`, not awaited here. */
  async function judgeThenCount(uid: string, client: string | undefined, activity: Activity, source: ActivitySource | undefined) {
    const check = await store.sessions.check(key(uid), client, activity);
    signals?.decided(decisionOf(check, client));
    await settle(uid, client, check);
    let counted = Promise.resolve();
    if (activity === 'active' && source && check.sso === 'alive' && (client === undefined || check.rp === 'alive')) {
      counted = store.sessions.countActivity(key(uid), source, client);
      // Awaited by the caller; should its request fail before that, the failure is not unhandled.
      counted.catch(() => {});
    }
    return { check, counted };
  }

  async function statusBySidAt(sid: string, client: string, activity: Activity, source?: ActivitySource): Promise<{ status: SessionStatus; now: number }> {
    const check = await store.sessions.checkBySid(sidKey(sid), client, activity);
    const inactive = { status: { active: false } as const, now: check.now };
    // A sid belongs to exactly one client: another client asking learns nothing.
    if (!check.session || check.session.rps[client]?.sid !== sid) {
      signals?.decided('missing');
      return inactive;
    }
    signals?.decided(decisionOf(check, client));
    const session = check.session;
    await settle(session.id, client, check);
    const alive = check.sso === 'alive' && check.rp === 'alive';
    if (!alive || !check.deadlines) return inactive;
    if (activity === 'active' && source) await store.sessions.countActivity(key(session.id), source, client);
    const warnAt = warningAt(check.deadlines, session.warningSeconds);
    // The answer is what an RP shows its user: inside the window, that is a warning shown.
    if (check.now >= warnAt && (await store.sessions.markWarned(key(session.id), client, warnAt))) {
      await audit({
        type: 'session.warned',
        org: session.org,
        user: session.user,
        session: session.id,
        client,
        data: { warningAt: iso(warnAt), expiresAt: iso(expiresAt(check.deadlines)), secondsLeft: Math.max(0, Math.round((expiresAt(check.deadlines) - check.now) / 1000)) },
      });
    }
    return { status: statusBody(check.deadlines, session.warningSeconds, alive), now: check.now };
  }

  return {
    async recordLogin({ uid, user, org, ip, client }) {
      const limits = effectiveLimits(org.policy, { roles: user.roles, ...(ip ? { ip } : {}) }).sso;
      const replacedEnd = { id: store.sessions.endingId(key(uid)), leaseMs: endLeaseMs };
      const { session, replaced } = await store.sessions.login(key(uid), {
        id: uid,
        org: org.id,
        user: user.id,
        ...(ip ? { ip } : {}),
        idleSeconds: limits.idle.seconds,
        absoluteSeconds: limits.absolute.seconds,
        warningSeconds: org.policy.warningSeconds,
        refreshIsActivity: org.policy.refreshIsActivity,
      }, replacedEnd);
      if (replaced) {
        // The browser signed in again after its session died (or as someone else): that old
        // session ends now if nothing ended it yet.
        const deadlines = ssoDeadlines(replaced);
        const cause = deathCause(deadlines, session.signedInAt);
        // The store recorded that end with the sign-in, judged by the same rule.
        await finishNow({ id: replacedEnd.id, reason: cause ?? 'logout', scope: 'sso', session: replaced, rps: liveRps(replaced), ...(cause ? { deadlineAt: expiresAt(deadlines) } : {}) });
      }
      if (!replaced && session.signedInAt !== session.lastActiveAt) {
        // A sign-in inside the live session (step-up) is its user's activity.
        await store.sessions.countActivity(key(uid), 'sign_in', client);
        return session;
      }
      await audit({
        type: 'session.started',
        org: org.id,
        user: user.id,
        session: uid,
        ...(ip ? { ip } : {}),
        ...(client ? { client } : {}),
        data: {
          scope: 'sso',
          idleSeconds: session.idleSeconds,
          absoluteSeconds: session.absoluteSeconds,
          warningSeconds: session.warningSeconds,
          decidedBy: { idle: label(limits.idle.decidedBy), absolute: label(limits.absolute.decidedBy) },
          idleExpiresAt: iso(session.lastActiveAt + session.idleSeconds * 1000),
          absoluteExpiresAt: iso(session.signedInAt + session.absoluteSeconds * 1000),
        },
      });
      signals?.started('sso');
      return session;
    },

    async recordRp({ uid, client, sid, grantId }) {
      const session = await store.sessions.get(key(uid));
      if (!session) return;
      const limits = await limitsFor(session, [client]);
      if (!limits) return;
      const rp = limits.update.rps[client]!;
      const replacedEnd = { id: store.sessions.endingId(key(uid)), leaseMs: endLeaseMs };
      const { replaced, session: after, now } = await store.sessions.addRp(key(uid), { client, sid, sidKey: sidKey(sid), ...(grantId ? { grantId } : {}), ...rp }, replacedEnd);
      // A dead RP session of this client that nothing ended yet ends as the new one starts.
      if (replaced && after && replaced.endedAt === undefined) {
        const deadlines = rpDeadlines(after, replaced);
        const cause = deathCause(deadlines, now);
        await finishNow({ id: replacedEnd.id, reason: cause ?? 'logout', scope: 'rp', session: after, rps: [replaced], ...(cause ? { deadlineAt: expiresAt(deadlines) } : {}) });
      }
      const started = after?.rps[client];
      if (after && started && started.sid === sid && started.startedAt === now) {
        const decided = limits.rp[client]!;
        const deadlines = rpDeadlines(after, started);
        await audit({
          type: 'session.started',
          org: after.org,
          user: after.user,
          session: uid,
          client,
          data: {
            scope: 'rp',
            idleSeconds: started.idleSeconds,
            absoluteSeconds: started.absoluteSeconds,
            refreshIsActivity: decided.refreshIsActivity.value,
            decidedBy: { idle: label(decided.idle.decidedBy), absolute: label(decided.absolute.decidedBy), refreshIsActivity: label(decided.refreshIsActivity.decidedBy) },
            idleExpiresAt: iso(deadlines.idleAt),
            absoluteExpiresAt: iso(deadlines.absoluteAt),
          },
        });
        signals?.started('rp');
      }
    },

    async check(uid, client, activity, source) {
      const { check, counted } = await judgeThenCount(uid, client, activity, source);
      await counted;
      return check;
    },

    checkCountingLater: judgeThenCount,

    async stayActive(uid) {
      const check = await store.sessions.touchAll(key(uid));
      if (check.sso === 'alive') await store.sessions.countActivity(key(uid), 'stay_signed_in', undefined);
      return check;
    },

    get: (uid) => store.sessions.get(key(uid)),

    async statusBySid(sid, client, activity, source) {
      return (await statusBySidAt(sid, client, activity, source)).status;
    },

    statusBySidAt,

    end: (uid, reason, options) => endSso(uid, reason, undefined, options),
    endRp: (uid, client, reason, options) => endRp(uid, client, reason, undefined, options),
    async settle() {
      while (finishing.size) await Promise.all(finishing);
    },

    async endUserSessions(userId, reason) {
      let ended = 0;
      for (const k of await store.sessions.keysOfUser(userId)) {
        const session = await store.sessions.get(k);
        if (session && (await endSso(session.id, reason))) ended++;
      }
      return ended;
    },

    async sweep(sessionKey) {
      // One judging round trip; its RP sessions are judged from it, at the same instant.
      const sso = await store.sessions.check(sessionKey, undefined, 'passive');
      const session = sso.session;
      if (!session) return 0;
      if (sso.sso === 'dead') {
        await settle(session.id, undefined, sso);
        return 1;
      }
      let ended = 0;
      for (const rp of liveRps(session)) {
        const check = judge(session, rp.client, sso.now);
        if (check.rp === 'dead') {
          await settle(session.id, rp.client, check);
          ended++;
        }
      }
      return ended;
    },

    async applyPolicy(org) {
      let recomputed = 0;
      let ended = 0;
      for (const k of await store.sessions.keysOfOrg(org)) {
        const session = await store.sessions.get(k);
        if (!session) continue;
        const limits = await limitsFor(session, liveRps(session).map((rp) => rp.client));
        if (!limits) continue;
        const check = await store.sessions.setLimits(k, limits.update);
        recomputed++;
        if (check.sso === 'dead') {
          if (await endSso(session.id, 'policy')) ended++;
          continue;
        }
        for (const { client } of check.session ? liveRps(check.session) : []) {
          if (judge(check.session!, client, check.now).rp === 'dead' && (await endRp(session.id, client, 'policy'))) ended++;
        }
      }
      return { recomputed, ended };
    },

    async finishPending(limit, leaseMs) {
      const { entries } = await store.ended.claim(limit, leaseMs);
      await Promise.all(
        entries.map((entry) => finish(toEnded(entry), true).catch((err: unknown) => log.error({ err, end: entry.id }, 'finishing a session end failed; it is claimed again after its lease'))),
      );
      return entries.length;
    },

    async list(org, filter = {}) {
      const now = await store.now();
      const keys = filter.user ? await store.sessions.keysOfUser(filter.user) : await store.sessions.keysOfOrg(org);
      const found = await Promise.all(keys.map((k) => store.sessions.get(k)));
      return found
        .filter((s): s is SsoSession => s !== undefined && s.org === org && (filter.user === undefined || s.user === filter.user))
        .filter((s) => isAlive(ssoDeadlines(s), now))
        .filter((s) => filter.client === undefined || liveRps(s).some((rp) => rp.client === filter.client))
        .sort((a, b) => a.signedInAt - b.signedInAt);
    },
  };
}
