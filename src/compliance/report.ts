import type { AuditRecord, EndReason } from '../audit/types.ts';
import type { Policy } from '../sessions/policy-types.ts';

/**
 * SPEC §13: the evidence an auditor asks for, computed from the audit stream alone. Pure: the
 * same events always give the same report, so the JSON, the page and the PDF agree by
 * construction and every figure can be tested without a store.
 */

export const END_REASONS: readonly EndReason[] = ['logout', 'idle', 'absolute', 'admin', 'policy', 'user_disabled', 'client_deleted'];

export interface PolicyChangeEntry {
  at: string;
  actor: string;
  before: unknown;
  after: unknown;
}

export interface Lateness {
  /** Ends of this kind (a deadline passed) in the period. */
  ends: number;
  /** Ends processed after their deadline (lateMs > 0). */
  late: number;
  /** Nearest-rank percentiles of lateMs over every end of this kind; null when there were none. */
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface DeadLetter {
  at: string;
  delivery: string;
  client: string | null;
  user: string | null;
  sid: string | null;
  attempts: number | null;
  error: string;
}

export interface ControlTestRun {
  at: string;
  outcome: 'pass' | 'fail';
  trigger: string;
  actor: string | null;
  failures: string[];
  deadline: string | null;
  /** How close to its deadline the session was last seen alive (null: not looked at in the last second). */
  lastAliveMsBeforeDeadline: number | null;
  /** How long after the deadline the session was found refused; null when it never was. */
  refusedLateMs: number | null;
  /** How long after the deadline the logout token reached the test receiver. */
  announcedLateMs: number | null;
}

export interface ComplianceReport {
  org: { id: string; name: string };
  period: { since: string; until: string };
  generatedAt: string;
  policy: {
    /** In force when the period began (before its first change). */
    atStart: Policy | unknown;
    /** In force when the period ended. */
    atEnd: Policy | unknown;
    changes: PolicyChangeEntry[];
  };
  sessions: {
    started: { sso: number; rp: number };
    ended: { total: number; byReason: Record<EndReason, number> };
  };
  lateEnds: { idle: Lateness; absolute: Lateness };
  mfa: { required: number; stepUpsRequired: number; refused: number; passed: number; enrolled: number; failed: number; locked: number };
  deliveries: { delivered: number; retrying: number; dead: number; deadLetters: DeadLetter[] };
  controlTests: { runs: number; passed: number; failed: number; items: ControlTestRun[] };
  /** Events of Curfew's own control test, kept out of the figures above (they are in controlTests). */
  syntheticEventsExcluded: number;
}

export interface ReportInput {
  org: { id: string; name: string };
  period: { since: string; until: string };
  generatedAt: string;
  /** Every audit event of the org with since <= at < until, in any order. */
  events: readonly AuditRecord[];
  /** The org's policy now. */
  currentPolicy: Policy;
  /** `policy.changed` events at or after `until` (they tell what was in force at `until`). */
  laterPolicyChanges: readonly AuditRecord[];
  /** The control test's synthetic users: their sessions are not the org's people's. */
  syntheticUsers: readonly string[];
}

/** Nearest-rank percentile (the smallest value with at least p% of values at or below it). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

export function lateness(lateMs: readonly number[]): Lateness {
  const sorted = [...lateMs].sort((a, b) => a - b);
  return {
    ends: sorted.length,
    late: sorted.filter((ms) => ms > 0).length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length ? (sorted.at(-1) ?? null) : null,
  };
}

const byTime = (a: AuditRecord, b: AuditRecord) => Date.parse(a.at) - Date.parse(b.at) || compareId(a.id, b.id);
function compareId(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const data = (e: AuditRecord): Record<string, unknown> => e.data ?? {};

function isEndReason(v: unknown): v is EndReason {
  return typeof v === 'string' && (END_REASONS as readonly string[]).includes(v);
}

function controlRun(e: AuditRecord): ControlTestRun {
  const d = data(e);
  return {
    at: e.at,
    outcome: d.outcome === 'pass' ? 'pass' : 'fail',
    trigger: str(d.trigger) ?? 'unknown',
    actor: e.actor ?? null,
    failures: Array.isArray(d.failures) ? d.failures.filter((f): f is string => typeof f === 'string') : [],
    deadline: str(d.deadline),
    lastAliveMsBeforeDeadline: num(d.lastAliveMsBeforeDeadline),
    refusedLateMs: num(d.refusedLateMs),
    announcedLateMs: num(d.announcedLateMs),
  };
}

/** The first event of each end id; events without one (older releases) are all kept. */
function onePerEnd(events: AuditRecord[]): AuditRecord[] {
  const seen = new Set<string>();
  return events.filter((e) => {
    const end = data(e).end;
    if (typeof end !== 'string') return true;
    if (seen.has(end)) return false;
    seen.add(end);
    return true;
  });
}

export function complianceReport(input: ReportInput): ComplianceReport {
  const sinceMs = Date.parse(input.period.since);
  const untilMs = Date.parse(input.period.until);
  const inPeriod = input.events.filter((e) => {
    const at = Date.parse(e.at);
    return at >= sinceMs && at < untilMs;
  });
  const events = [...inPeriod].sort(byTime);
  const synthetic = new Set(input.syntheticUsers);
  const isSynthetic = (e: AuditRecord) => e.user !== undefined && synthetic.has(e.user);
  const real = events.filter((e) => !isSynthetic(e) || e.type === 'compliance.control_test');
  const of = (type: AuditRecord['type']) => real.filter((e) => e.type === type);

  const changes = of('policy.changed').map((e) => ({ at: e.at, actor: e.actor ?? 'unknown', before: data(e).before, after: data(e).after }));
  const later = [...input.laterPolicyChanges].sort(byTime);
  const firstLater = later[0];
  const atEnd = firstLater ? data(firstLater).before : input.currentPolicy;
  const atStart = changes[0] ? changes[0].before : atEnd;

  const started = of('session.started');
  // An end is counted once: a slow ender and the worker that took its outbox lease over may both
  // have audited it (src/sessions/service.ts finish); `data.end` names the end they share.
  const ended = onePerEnd(of('session.ended'));
  const byReason: Record<EndReason, number> = { logout: 0, idle: 0, absolute: 0, admin: 0, policy: 0, user_disabled: 0, client_deleted: 0 };
  const late: Record<'idle' | 'absolute', number[]> = { idle: [], absolute: [] };
  for (const e of ended) {
    const reason = data(e).reason;
    if (!isEndReason(reason)) continue;
    byReason[reason] += 1;
    const lateMs = num(data(e).lateMs);
    if ((reason === 'idle' || reason === 'absolute') && lateMs !== null) late[reason].push(lateMs);
  }

  const required = of('mfa.required');
  const succeeded = of('mfa.succeeded');
  const dead = of('backchannel.dead');
  const runs = of('compliance.control_test').map(controlRun);

  return {
    org: input.org,
    period: input.period,
    generatedAt: input.generatedAt,
    policy: { atStart, atEnd, changes },
    sessions: {
      started: { sso: started.filter((e) => data(e).scope === 'sso').length, rp: started.filter((e) => data(e).scope === 'rp').length },
      ended: { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason },
    },
    lateEnds: { idle: lateness(late.idle), absolute: lateness(late.absolute) },
    mfa: {
      required: required.length,
      stepUpsRequired: required.filter((e) => data(e).stepUp === true).length,
      refused: required.filter((e) => data(e).outcome === 'refused').length,
      passed: succeeded.filter((e) => data(e).method === 'totp' || data(e).method === 'recovery').length,
      enrolled: succeeded.filter((e) => data(e).method === 'enrollment').length,
      failed: of('mfa.failed').length,
      locked: of('mfa.locked').length,
    },
    deliveries: {
      delivered: of('backchannel.delivered').length,
      retrying: of('backchannel.retrying').length,
      dead: dead.length,
      deadLetters: dead.map((e) => ({
        at: e.at,
        delivery: str(data(e).delivery) ?? '',
        client: e.client ?? null,
        user: e.user ?? null,
        sid: str(data(e).sid),
        attempts: num(data(e).attempt),
        error: str(data(e).error) ?? '',
      })),
    },
    controlTests: { runs: runs.length, passed: runs.filter((r) => r.outcome === 'pass').length, failed: runs.filter((r) => r.outcome === 'fail').length, items: runs },
    syntheticEventsExcluded: events.length - real.length,
  };
}
