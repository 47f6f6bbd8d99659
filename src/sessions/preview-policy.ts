import { expiresAt, isAlive, rpDeadlines, ssoDeadlines, type EpochMs } from './deadlines.ts';
import { effectiveLimits } from './effective-limits.ts';
import type { Policy } from './policy-types.ts';
import type { SsoSession } from './types.ts';

/** What a policy change would do to one live session's end: the first of its deadlines. */
export type PreviewOutcome = 'ends' | 'shorter' | 'longer' | 'unchanged';

export interface PreviewSubject {
  session: SsoSession;
  /** The roles of the session's user now: what the new policy's role rules match. */
  roles: readonly string[];
}

export interface AppPreview {
  client: string;
  expiresAt: EpochMs;
  newExpiresAt: EpochMs;
  outcome: PreviewOutcome;
}

export interface SessionPreview {
  session: string;
  user: string;
  expiresAt: EpochMs;
  newExpiresAt: EpochMs;
  outcome: PreviewOutcome;
  /** The live app (RP) sessions whose end moves; none when the SSO session itself ends. */
  apps: AppPreview[];
}

export interface PolicyPreview {
  now: EpochMs;
  /** Live SSO sessions looked at. */
  sessions: number;
  /** SSO sessions by outcome: "12 sessions get shorter, 3 end now". */
  endNow: number;
  shorter: number;
  longer: number;
  unchanged: number;
  /** App sessions that end now inside SSO sessions that live on. */
  appSessionsEndNow: number;
  /** What saving would report as ended: SSO sessions plus app sessions (as applyPolicy counts). */
  endedSessions: number;
  /** Every session whose end, or one of whose apps' ends, moves; soonest new end first. */
  affected: SessionPreview[];
}

const outcomeOf = (before: EpochMs, after: EpochMs, now: EpochMs): PreviewOutcome =>
  now >= after ? 'ends' : after < before ? 'shorter' : after > before ? 'longer' : 'unchanged';

/**
 * A dry run of SPEC §4's "changes apply at once" (applyPolicy): each live session's limits are
 * recomputed under `policy` as a save would recompute them, and judged at `now` — alive while
 * `now < deadline`, so a new deadline of exactly `now` ends the session. Pure: it changes nothing.
 * Sessions and app sessions already dead at `now` are not counted: they end with or without a change.
 */
export function previewPolicy(policy: Policy, subjects: readonly PreviewSubject[], now: EpochMs): PolicyPreview {
  const counts = { endNow: 0, shorter: 0, longer: 0, unchanged: 0, appSessionsEndNow: 0 };
  const affected: SessionPreview[] = [];
  let looked = 0;
  for (const { session, roles } of subjects) {
    const before = ssoDeadlines(session);
    if (!isAlive(before, now)) continue;
    looked++;
    const subject = { roles, ...(session.ip ? { ip: session.ip } : {}) };
    const sso = effectiveLimits(policy, subject).sso;
    const next = { ...session, idleSeconds: sso.idle.seconds, absoluteSeconds: sso.absolute.seconds };
    const after = ssoDeadlines(next);
    const outcome = outcomeOf(expiresAt(before), expiresAt(after), now);
    counts[outcome === 'ends' ? 'endNow' : outcome]++;
    const apps: AppPreview[] = [];
    // An app session ends with its SSO session: only a surviving one's apps are judged apart.
    for (const rp of outcome === 'ends' ? [] : Object.values(session.rps)) {
      if (rp.endedAt !== undefined) continue;
      const rpBefore = rpDeadlines(session, rp);
      if (!isAlive(rpBefore, now)) continue;
      const limits = effectiveLimits(policy, { ...subject, client: rp.client }).rp!;
      const rpAfter = rpDeadlines(next, { ...rp, idleSeconds: limits.idle.seconds, absoluteSeconds: limits.absolute.seconds });
      const app = { client: rp.client, expiresAt: expiresAt(rpBefore), newExpiresAt: expiresAt(rpAfter), outcome: outcomeOf(expiresAt(rpBefore), expiresAt(rpAfter), now) };
      if (app.outcome === 'ends') counts.appSessionsEndNow++;
      if (app.outcome !== 'unchanged') apps.push(app);
    }
    if (outcome !== 'unchanged' || apps.length) {
      affected.push({ session: session.id, user: session.user, expiresAt: expiresAt(before), newExpiresAt: expiresAt(after), outcome, apps });
    }
  }
  affected.sort((a, b) => a.newExpiresAt - b.newExpiresAt || a.session.localeCompare(b.session));
  return { now, sessions: looked, ...counts, endedSessions: counts.endNow + counts.appSessionsEndNow, affected };
}
