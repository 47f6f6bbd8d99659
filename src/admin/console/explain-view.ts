import { effectiveLimits, matchingRules, type Decider, type Limit, type Subject } from '../../sessions/effective-limits.ts';
import type { Policy, PolicyRule } from '../../sessions/policy-types.ts';

/** "5 min", "12 h", "1 h 30 min", "45 s": a limit as an admin reads it (the seconds stay beside it). */
export function duration(seconds: number): string {
  const parts: string[] = [];
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s || !parts.length) parts.push(`${s} s`);
  return parts.join(' ');
}

const decider = (d: Decider) => (d.kind === 'rule' ? `rule “${d.rule}”` : d.kind === 'ceiling' ? 'the ceiling' : 'the org default');

export interface ExplainRow {
  scope: string;
  limit: string;
  value: string;
  decidedBy: string;
}

export interface ExplainedRule {
  name: string;
  matchedOn: string;
  sets: string;
  decides: string;
}

/**
 * The console's explain (SPEC §4) as tables: each limit with where it came from, and the rules
 * that matched with what each set and decided. The API answers the same question as JSON (explain()).
 */
export function explainView(policy: Policy, subject: Subject): { rows: ExplainRow[]; rules: ExplainedRule[] } {
  const limits = effectiveLimits(policy, subject);
  const row = (scope: string, limit: string, l: Limit): ExplainRow => ({ scope, limit, value: `${duration(l.seconds)} (${l.seconds} s)`, decidedBy: decider(l.decidedBy) });
  const sso = 'Browser session (SSO)';
  const rows = [row(sso, 'Idle', limits.sso.idle), row(sso, 'Absolute', limits.sso.absolute)];
  const decided = new Map<string, string[]>();
  const note = (d: Decider, what: string) => {
    if (d.kind === 'rule') decided.set(d.rule, [...(decided.get(d.rule) ?? []), what]);
  };
  note(limits.sso.idle.decidedBy, 'SSO idle');
  note(limits.sso.absolute.decidedBy, 'SSO absolute');
  if (limits.rp) {
    const app = `App session (${subject.client})`;
    rows.push(row(app, 'Idle', limits.rp.idle), row(app, 'Absolute', limits.rp.absolute));
    const refresh = limits.rp.refreshIsActivity;
    rows.push({ scope: app, limit: 'Refresh is activity', value: refresh.value ? 'yes' : 'no', decidedBy: decider(refresh.decidedBy) });
    note(limits.rp.idle.decidedBy, 'app idle');
    note(limits.rp.absolute.decidedBy, 'app absolute');
    note(refresh.decidedBy, 'refresh is activity');
  }
  const rules = matchingRules(policy, subject).map(({ rule, on }) => ({
    name: rule.name,
    matchedOn: on.map((m) => (m.kind === 'role' ? `role ${m.role}` : m.kind === 'client' ? `client ${m.client}` : `${m.ip} in ${(rule.match.networks ?? []).join(', ')}`)).join('; '),
    sets: sets(rule),
    decides: (decided.get(rule.name) ?? []).join(', ') || 'nothing (another value won)',
  }));
  return { rows, rules };
}

function sets(rule: PolicyRule): string {
  return [
    rule.idleTimeoutSeconds !== undefined ? `idle ${duration(rule.idleTimeoutSeconds)}` : '',
    rule.absoluteTimeoutSeconds !== undefined ? `absolute ${duration(rule.absoluteTimeoutSeconds)}` : '',
    rule.refreshIsActivity !== undefined ? `refresh is activity: ${rule.refreshIsActivity ? 'yes' : 'no'}` : '',
  ].filter(Boolean).join(', ');
}
