import { describe, expect, it } from 'vitest';
import { policyDiff, reportSections } from '../../src/compliance/report-view.ts';
import { complianceReport, type ReportInput } from '../../src/compliance/report.ts';
import { policy } from '../support/operations.ts';

const at = (offsetMs: number) => new Date(Date.UTC(2030, 0, 10) + offsetMs).toISOString();

/** A report over a few events, built by the real report module. */
function report(extra: Partial<ReportInput> = {}) {
  let seq = 0;
  const ev = (offset: number, e: Omit<ReportInput['events'][number], 'id' | 'at'>) => ({ id: `${Date.parse(at(offset))}-${++seq}`, at: at(offset), ...e });
  return complianceReport({
    org: { id: 'acme', name: 'Acme' },
    period: { since: '2030-01-01T00:00:00.000Z', until: '2030-01-31T00:00:00.000Z' },
    generatedAt: '2030-02-01T00:00:00.000Z',
    currentPolicy: policy({ idleTimeoutSeconds: 600, rules: [{ name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 }] }),
    laterPolicyChanges: [],
    syntheticUsers: [],
    events: [
      ev(0, { type: 'session.started', org: 'acme', user: 'u1', session: 's1', data: { scope: 'sso' } }),
      ev(1, { type: 'session.ended', org: 'acme', user: 'u1', session: 's1', data: { reason: 'idle', scope: 'sso', lateMs: 40 } }),
      ev(2, { type: 'policy.changed', org: 'acme', actor: 'user:u-alice', data: { before: policy(), after: policy({ idleTimeoutSeconds: 600, rules: [{ name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 }] }) } }),
      ev(3, { type: 'backchannel.dead', org: 'acme', client: 'wiki', data: { delivery: 'd-1', attempt: 8, error: 'HTTP 500' } }),
    ],
    ...extra,
  });
}

describe('the report as labelled rows', () => {
  it('diffs a policy field by field, rules by name', () => {
    expect(policyDiff({ idleTimeoutSeconds: 900, mfa: 'off' }, { idleTimeoutSeconds: 600, mfa: 'off' })).toBe('idleTimeoutSeconds: 900 -> 600');
    expect(policyDiff({ warningSeconds: 60 }, {})).toBe('warningSeconds: 60 -> —');
    expect(policyDiff(
      { rules: [{ name: 'a', idleTimeoutSeconds: 1 }, { name: 'b' }] },
      { rules: [{ name: 'a', idleTimeoutSeconds: 2 }, { name: 'c' }] },
    )).toBe('rule a changed; rule c added; rule b removed');
    expect(policyDiff(policy(), policy())).toBe('no change');
    expect(policyDiff(undefined, undefined)).toBe('no change');
  });

  it('gives the six sections an auditor reads, in order', () => {
    expect(reportSections(report()).map((s) => s.title)).toEqual(['Policy in force', 'Sessions', 'Timeouts processed late', 'Step-up (MFA)', 'Back-channel logout deliveries', 'Control test']);
  });

  it('prints the policy, its changes with who and what, the ends by reason, lateness and dead letters', () => {
    const sections = Object.fromEntries(reportSections(report()).map((s) => [s.title, s]));
    const policySection = sections['Policy in force']!;
    expect(policySection.rows).toContainEqual(['At the end of the period', 'idle 600 s, absolute 28800 s, warning 120 s, MFA off, 1 rule']);
    expect(policySection.rows).toContainEqual(['Changes in the period', '1']);
    expect(policySection.table?.rows).toEqual([[at(2), 'user:u-alice', 'idleTimeoutSeconds: 900 -> 600; rule admins added']]);
    expect(sections.Sessions!.rows).toContainEqual(['  ended: idle', '1']);
    expect(sections['Timeouts processed late']!.rows).toContainEqual(['Idle lateness p50 / p99 / max', '40 ms / 40 ms / 40 ms']);
    expect(sections['Timeouts processed late']!.rows).toContainEqual(['Absolute lateness p50 / p99 / max', '— / — / —']);
    expect(sections['Back-channel logout deliveries']!.table?.rows).toEqual([[at(3), 'wiki', 'd-1', '8', 'HTTP 500']]);
    expect(sections['Control test']!.rows).toEqual([['Runs', '0'], ['Passed', '0'], ['Failed', '0']]);
  });

  it('notes the synthetic control-test events it left out of the session counts', () => {
    const withSynthetic = report({ syntheticUsers: ['u1'] });
    const sessions = reportSections(withSynthetic).find((s) => s.title === 'Sessions')!;
    expect(sessions.note).toMatch(/^\d+ events of the synthetic control-test user are excluded/);
    expect(reportSections(report()).find((s) => s.title === 'Sessions')!.note).toBeUndefined();
  });
});
