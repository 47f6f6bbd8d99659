import { describe, expect, it } from 'vitest';
import { duration, explainView } from '../../../src/admin/console/explain-view.ts';
import type { Policy } from '../../../src/sessions/policy-types.ts';

const policy: Policy = {
  idleTimeoutSeconds: 900,
  absoluteTimeoutSeconds: 43200,
  warningSeconds: 120,
  mfa: 'reentry',
  refreshIsActivity: false,
  allowEnrollmentAtReentry: false,
  rules: [
    { name: 'auditors', match: { roles: ['auditor'] }, idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 7200 },
    { name: 'loose', match: { roles: ['auditor'] }, idleTimeoutSeconds: 800 },
    { name: 'payments', match: { clients: ['payments-app'] }, idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600, refreshIsActivity: true },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};

describe('explain as the console shows it', () => {
  it('reads a limit as an admin would, largest unit first, and zero as 0 s', () => {
    expect(duration(0)).toBe('0 s');
    expect(duration(45)).toBe('45 s');
    expect(duration(300)).toBe('5 min');
    expect(duration(5400)).toBe('1 h 30 min');
    expect(duration(90_061)).toBe('1 d 1 h 1 min 1 s');
  });

  it('names what decided each limit: the org default, or the rule that won', () => {
    const { rows } = explainView(policy, { roles: [] });
    expect(rows).toEqual([
      { scope: 'Browser session (SSO)', limit: 'Idle', value: '15 min (900 s)', decidedBy: 'the org default' },
      { scope: 'Browser session (SSO)', limit: 'Absolute', value: '12 h (43200 s)', decidedBy: 'the org default' },
    ]);
  });

  it('adds the app session with its refresh setting, and says which matching rule decided nothing', () => {
    const { rows, rules } = explainView(policy, { roles: ['auditor'], client: 'payments-app' });
    expect(rows).toEqual([
      { scope: 'Browser session (SSO)', limit: 'Idle', value: '10 min (600 s)', decidedBy: 'rule “auditors”' },
      { scope: 'Browser session (SSO)', limit: 'Absolute', value: '2 h (7200 s)', decidedBy: 'rule “auditors”' },
      { scope: 'App session (payments-app)', limit: 'Idle', value: '5 min (300 s)', decidedBy: 'rule “payments”' },
      { scope: 'App session (payments-app)', limit: 'Absolute', value: '1 h (3600 s)', decidedBy: 'rule “payments”' },
      { scope: 'App session (payments-app)', limit: 'Refresh is activity', value: 'yes', decidedBy: 'rule “payments”' },
    ]);
    expect(rules).toEqual([
      { name: 'auditors', matchedOn: 'role auditor', sets: 'idle 10 min, absolute 2 h', decides: 'SSO idle, SSO absolute' },
      { name: 'loose', matchedOn: 'role auditor', sets: 'idle 13 min 20 s', decides: 'nothing (another value won)' },
      { name: 'payments', matchedOn: 'client payments-app', sets: 'idle 5 min, absolute 1 h, refresh is activity: yes', decides: 'app idle, app absolute, refresh is activity' },
    ]);
  });

  it('lists no rules when none matched', () => {
    expect(explainView(policy, { roles: ['staff'], client: 'wiki' }).rules).toEqual([]);
  });
});
