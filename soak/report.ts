/**
 * The soak's verdict, computed from its own bookkeeping (every sid it obtained, every announced
 * deadline, every request's answer) and the receivers' records. Pure: no I/O.
 */
import type { Arrival } from './receivers.ts';
import type { FiveXX, RpSession, Stats } from './traffic.ts';

export interface FaultWindow {
  kind: string;
  detail: string;
  start: number;
  /** When the store and every instance answered ready again; undefined if they never did. */
  recovered: number | undefined;
}

/** After a fault's recovery, requests already under way may still fail: 5xx this long after count as the fault's. */
export const GRACE_MS = 3000;

export interface Report {
  minutes: number;
  seed: number;
  startedAt: string;
  durationSeconds: number;
  requests: number;
  outcomes: Record<string, number>;
  faults: Array<{ kind: string; detail: string; atSecond: number; recoveryMs: number | null }>;
  fiveXX: { outsideOutages: number; outsideByKind: Record<string, number>; outsideSample: Array<{ atSecond: number; sinceLastRecoveryMs: number | null; kind: string; status: number; body: string }>; insideOutages: number; insideByStatus: Record<string, number>; without503RetryAfter: number };
  tokens: { owed: number; delivered: number; lost: number; deadLettered: number; retriedByAdmin: number; duplicates: number; duplicateJtis: number; duplicatesByFault: Record<string, number>; rejectedInvalid: number; forUnknownSids: number };
  lateness: { expiries: Percentiles; logouts: Percentiles; deadlineUnknown: number };
  alivePastDeadline: number;
  unprobed: number;
  falseDeaths: number;
  unexpectedInstanceExits: number;
  errorsLogged: Record<string, number>;
  lostSids: string[];
  mustBeZero: Record<string, number>;
  passed: boolean;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : null);
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted.length ? sorted[sorted.length - 1]! : null };
}

/** Whether a request's life [sent, answered] overlaps a fault's window [start, recovery + grace]. */
export function inWindow(sent: number, answered: number, windows: FaultWindow[], end: number): boolean {
  return windows.some((w) => answered >= w.start && sent <= (w.recovered ?? end) + GRACE_MS);
}

export function buildReport(input: {
  minutes: number; seed: number; startedAt: number; endedAt: number; stats: Stats; sessions: RpSession[];
  arrivals: Arrival[]; invalid: number; windows: FaultWindow[]; retriedByAdmin: number; unexpectedExits: number; errorsLogged: Record<string, number>;
}): Report {
  const { stats, sessions, arrivals, windows } = input;
  const key = (client: string, sid: string) => `${client} ${sid}`;
  const accepted = new Map<string, Arrival[]>();
  const rejected = new Set<string>();
  for (const a of arrivals) {
    if (a.answered === 200) accepted.set(key(a.client, a.sid), [...(accepted.get(key(a.client, a.sid)) ?? []), a]);
    if (a.answered === 400) rejected.add(key(a.client, a.sid));
  }
  const owed = new Set(sessions.map((s) => key(s.client, s.sid)));
  let delivered = 0;
  let deadLettered = 0;
  const lostSids: string[] = [];
  const expiries: number[] = [];
  const logouts: number[] = [];
  let deadlineUnknown = 0;
  for (const s of sessions) {
    const k = key(s.client, s.sid);
    const got = accepted.get(k);
    if (got?.length) {
      delivered++;
      // A dead letter retried by an admin arrives when the admin retries it: not lateness.
      if (rejected.has(k)) continue;
      const end = s.logoutAt ?? s.deadline;
      if (end === undefined) deadlineUnknown++;
      else (s.logoutAt !== undefined ? logouts : expiries).push(got[0]!.at - end);
    } else if (rejected.has(k)) deadLettered++;
    else lostSids.push(k);
  }
  let duplicates = 0;
  let duplicateJtis = 0;
  const jtis = new Set<string>();
  let forUnknownSids = 0;
  const duplicatesByFault: Record<string, number> = {};
  for (const [k, list] of accepted) {
    if (!owed.has(k)) forUnknownSids += list.length;
    duplicates += list.length - 1;
    for (const again of list.slice(1)) {
      // Charged to the last store or instance fault that began before the first copy arrived.
      const cause = windows.filter((w) => w.start <= list[0]!.at).at(-1)?.kind ?? 'no fault';
      duplicatesByFault[cause] = (duplicatesByFault[cause] ?? 0) + (again ? 1 : 0);
    }
    for (const a of list) {
      if (jtis.has(a.jti)) duplicateJtis++;
      jtis.add(a.jti);
    }
  }
  const outside: FiveXX[] = stats.fiveXX.filter((f) => !inWindow(f.at, f.answeredAt, windows, input.endedAt));
  const inside = stats.fiveXX.filter((f) => inWindow(f.at, f.answeredAt, windows, input.endedAt));
  const tally = (list: FiveXX[], by: (f: FiveXX) => string) => list.reduce<Record<string, number>>((m, f) => ((m[by(f)] = (m[by(f)] ?? 0) + 1), m), {});
  const alive = stats.alivePastDeadline.length;
  const unprobed = sessions.filter((s) => s.probe !== 'done').length;
  const dishonest = inside.filter((f) => !f.balancer && !(f.status === 503 && f.retryAfter)).length;
  const mustBeZero = {
    'tokens lost': lostSids.length,
    '5xx outside outage windows': outside.length,
    "Curfew's 5xx during outages other than 503 + Retry-After": dishonest,
    '"dead" answers before an announced deadline': stats.falseDeaths.length,
    'sessions alive past deadline': alive,
    'logout tokens failing verification': input.invalid,
    'instances that exited by themselves': input.unexpectedExits,
  };
  return {
    minutes: input.minutes,
    seed: input.seed,
    startedAt: new Date(input.startedAt).toISOString(),
    durationSeconds: Math.round((input.endedAt - input.startedAt) / 1000),
    requests: stats.requests,
    outcomes: Object.fromEntries([...stats.outcomes].sort(([a], [b]) => a.localeCompare(b))),
    faults: windows.map((w) => ({ kind: w.kind, detail: w.detail, atSecond: Math.round((w.start - input.startedAt) / 100) / 10, recoveryMs: w.recovered === undefined ? null : w.recovered - w.start })),
    fiveXX: {
      outsideOutages: outside.length,
      outsideByKind: tally(outside, (f) => `${f.kind} ${f.status}${f.balancer ? ' (balancer)' : ''}`),
      outsideSample: outside.slice(0, 20).map((f) => {
        const last = windows.filter((w) => w.recovered !== undefined && w.recovered <= f.at).at(-1);
        return { atSecond: Math.round((f.at - input.startedAt) / 100) / 10, sinceLastRecoveryMs: last ? f.at - last.recovered! : null, kind: f.kind, status: f.status, body: f.body };
      }),
      insideOutages: inside.length,
      insideByStatus: tally(inside, (f) => `${f.kind} ${f.status}${f.balancer ? ' (balancer)' : f.retryAfter ? ' +Retry-After' : ''}`),
      without503RetryAfter: dishonest,
    },
    tokens: { owed: owed.size, delivered, lost: lostSids.length, deadLettered, retriedByAdmin: input.retriedByAdmin, duplicates, duplicateJtis, duplicatesByFault, rejectedInvalid: input.invalid, forUnknownSids },
    lateness: { expiries: percentiles(expiries), logouts: percentiles(logouts), deadlineUnknown },
    alivePastDeadline: alive,
    unprobed,
    falseDeaths: stats.falseDeaths.length,
    unexpectedInstanceExits: input.unexpectedExits,
    errorsLogged: input.errorsLogged,
    lostSids: lostSids.slice(0, 50),
    mustBeZero,
    passed: Object.values(mustBeZero).every((v) => v === 0),
  };
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);

export function formatReport(r: Report): string {
  const rows: Array<[string, string]> = [
    ['duration', `${r.durationSeconds} s (${r.minutes} min of traffic, seed ${r.seed})`],
    ['requests', String(r.requests)],
    ['faults', r.faults.map((f) => `${f.kind}@${f.atSecond}s${f.recoveryMs === null ? '' : `→${f.recoveryMs}ms`}`).join(', ')],
    ['5xx outside outage windows', `${r.fiveXX.outsideOutages} ${JSON.stringify(r.fiveXX.outsideByKind)}`],
    ['5xx inside outage windows', `${r.fiveXX.insideOutages} (not 503+Retry-After: ${r.fiveXX.without503RetryAfter}) ${JSON.stringify(r.fiveXX.insideByStatus)}`],
    ['logout tokens owed', String(r.tokens.owed)],
    ['delivered', String(r.tokens.delivered)],
    ['lost', String(r.tokens.lost)],
    ['dead letters (receiver answered 400), not retried', String(r.tokens.deadLettered)],
    ['dead letters retried through the admin API', String(r.tokens.retriedByAdmin)],
    ['duplicates (same sid again / same jti again)', `${r.tokens.duplicates} / ${r.tokens.duplicateJtis} ${JSON.stringify(r.tokens.duplicatesByFault)}`],
    ['tokens failing verification', String(r.tokens.rejectedInvalid)],
    ['tokens for sids the soak never saw', String(r.tokens.forUnknownSids)],
    ['lateness, expiries (deadline → arrival)', `n=${r.lateness.expiries.count} p50 ${ms(r.lateness.expiries.p50)} p99 ${ms(r.lateness.expiries.p99)} max ${ms(r.lateness.expiries.max)}`],
    ['lateness, logouts (request → arrival)', `n=${r.lateness.logouts.count} p50 ${ms(r.lateness.logouts.p50)} p99 ${ms(r.lateness.logouts.p99)} max ${ms(r.lateness.logouts.max)}`],
    ['sessions alive past deadline', `${r.alivePastDeadline} (unprobed: ${r.unprobed})`],
    ['"dead" answers before an announced deadline', String(r.falseDeaths)],
    ['instances that exited by themselves', String(r.unexpectedInstanceExits)],
    ['errors Curfew logged (message: count)', JSON.stringify(r.errorsLogged)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const outcomes = Object.entries(r.outcomes).map(([k, v]) => `  ${k.padEnd(40)} ${v}`);
  return [
    'Requests by outcome:', ...outcomes, '',
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`), '',
    r.passed ? 'PASS: every must-be-zero figure is zero' : `FAIL: ${Object.entries(r.mustBeZero).filter(([, v]) => v).map(([k, v]) => `${k} = ${v}`).join(', ')}`,
  ].join('\n');
}
