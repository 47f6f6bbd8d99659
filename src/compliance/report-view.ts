import type { ComplianceReport, Lateness } from './report.ts';

/**
 * The report as labelled rows, shared by the HTML page and the PDF: both print exactly these
 * strings, so the printable document and the page can never disagree with each other or the JSON.
 */
export interface ReportSection {
  title: string;
  rows: Array<[string, string]>;
  table?: { head: string[]; rows: string[][] };
  note?: string;
}

const ms = (v: number | null) => (v === null ? '—' : `${v} ms`);
const lateRows = (label: string, l: Lateness): Array<[string, string]> => [
  [`${label} ends`, String(l.ends)],
  [`${label} ends processed after the deadline`, String(l.late)],
  [`${label} lateness p50 / p99 / max`, `${ms(l.p50Ms)} / ${ms(l.p99Ms)} / ${ms(l.maxMs)}`],
];

function limits(policy: unknown): string {
  if (!policy || typeof policy !== 'object') return '—';
  const p = policy as Record<string, unknown>;
  const rules = Array.isArray(p.rules) ? p.rules.length : 0;
  return `idle ${String(p.idleTimeoutSeconds)} s, absolute ${String(p.absoluteTimeoutSeconds)} s, warning ${String(p.warningSeconds)} s, MFA ${String(p.mfa)}, ${rules} rule${rules === 1 ? '' : 's'}`;
}

/** What a change changed, field by field (rules by name), in a line an auditor can read. */
export function policyDiff(before: unknown, after: unknown): string {
  const b = (before ?? {}) as Record<string, unknown>;
  const a = (after ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (key === 'rules') continue;
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) parts.push(`${key}: ${JSON.stringify(b[key]) ?? '—'} -> ${JSON.stringify(a[key]) ?? '—'}`);
  }
  const named = (v: unknown) => new Map((Array.isArray(v) ? v : []).map((r: { name?: unknown }) => [String(r.name), JSON.stringify(r)]));
  const br = named(b.rules);
  const ar = named(a.rules);
  for (const [name, rule] of ar) if (!br.has(name)) parts.push(`rule ${name} added`);
  else if (br.get(name) !== rule) parts.push(`rule ${name} changed`);
  for (const name of br.keys()) if (!ar.has(name)) parts.push(`rule ${name} removed`);
  return parts.length ? parts.join('; ') : 'no change';
}

export function reportSections(r: ComplianceReport): ReportSection[] {
  const c = r.controlTests;
  return [
    {
      title: 'Policy in force',
      rows: [
        ['At the start of the period', limits(r.policy.atStart)],
        ['At the end of the period', limits(r.policy.atEnd)],
        ['Changes in the period', String(r.policy.changes.length)],
      ],
      table: { head: ['When', 'Who', 'What changed'], rows: r.policy.changes.map((ch) => [ch.at, ch.actor, policyDiff(ch.before, ch.after)]) },
    },
    {
      title: 'Sessions',
      rows: [
        ['Browser (SSO) sessions started', String(r.sessions.started.sso)],
        ['App (RP) sessions started', String(r.sessions.started.rp)],
        ['Sessions ended', String(r.sessions.ended.total)],
        ...Object.entries(r.sessions.ended.byReason).map(([reason, n]): [string, string] => [`  ended: ${reason}`, String(n)]),
      ],
      note: r.syntheticEventsExcluded ? `${r.syntheticEventsExcluded} events of the synthetic control-test user are excluded here and reported under Control test.` : undefined,
    },
    { title: 'Timeouts processed late', rows: [...lateRows('Idle', r.lateEnds.idle), ...lateRows('Absolute', r.lateEnds.absolute)] },
    {
      title: 'Step-up (MFA)',
      rows: [
        ['TOTP required', String(r.mfa.required)],
        ['  of which step-ups after a timeout or revocation', String(r.mfa.stepUpsRequired)],
        ['  refused (not enrolled)', String(r.mfa.refused)],
        ['TOTP passed', String(r.mfa.passed)],
        ['Enrollments', String(r.mfa.enrolled)],
        ['Failed codes', String(r.mfa.failed)],
        ['Lockouts', String(r.mfa.locked)],
      ],
    },
    {
      title: 'Back-channel logout deliveries',
      rows: [
        ['Delivered', String(r.deliveries.delivered)],
        ['Attempts retried', String(r.deliveries.retrying)],
        ['Dead letters', String(r.deliveries.dead)],
      ],
      table: { head: ['When', 'Client', 'Delivery', 'Attempts', 'Error'], rows: r.deliveries.deadLetters.map((d) => [d.at, d.client ?? '—', d.delivery, d.attempts === null ? '—' : String(d.attempts), d.error]) },
    },
    {
      title: 'Control test',
      rows: [
        ['Runs', String(c.runs)],
        ['Passed', String(c.passed)],
        ['Failed', String(c.failed)],
      ],
      table: {
        head: ['When', 'Outcome', 'Trigger', 'Alive before deadline', 'Refused after deadline', 'Announced after deadline', 'Failures'],
        rows: c.items.map((i) => [i.at, i.outcome.toUpperCase(), `${i.trigger}${i.actor ? ` (${i.actor})` : ''}`, ms(i.lastAliveMsBeforeDeadline), ms(i.refusedLateMs), ms(i.announcedLateMs), i.failures.join('; ') || '—']),
      },
    },
  ];
}
