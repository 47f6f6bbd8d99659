import { describe, expect, it } from 'vitest';
import { effectiveLimits, explain } from '../../src/sessions/effective-limits.ts';
import type { Policy } from '../../src/sessions/policy-types.ts';

const base: Policy = {
  idleTimeoutSeconds: 900,
  absoluteTimeoutSeconds: 43200,
  warningSeconds: 120,
  mfa: 'reentry',
  refreshIsActivity: false,
  allowEnrollmentAtReentry: false,
  rules: [
    { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
    { name: 'auditors', match: { roles: ['auditor'] }, idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 7200 },
    { name: 'payments', match: { clients: ['payments-app'] }, idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600 },
    { name: 'reports', match: { clients: ['reports'] }, absoluteTimeoutSeconds: 1800 },
    { name: 'office', match: { networks: ['10.20.0.0/16'] }, idleTimeoutSeconds: 1800 },
    { name: 'lab', match: { networks: ['2001:db8:1::/48'] }, idleTimeoutSeconds: 2400 },
    { name: 'vpn', match: { networks: ['10.20.5.0/24'] }, idleTimeoutSeconds: 7200 },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};

const sso = (roles: string[], ip?: string) => {
  const { idle, absolute } = effectiveLimits(base, { roles, ip }).sso;
  return [idle.seconds, absolute.seconds];
};

describe('effective limits', () => {
  it('are the org defaults when no rule matches', () => {
    expect(effectiveLimits(base, { roles: ['staff'], ip: '192.0.2.1' })).toEqual({
      sso: { idle: { seconds: 900, decidedBy: { kind: 'default' } }, absolute: { seconds: 43200, decidedBy: { kind: 'default' } } },
    });
  });

  it('tighten by role rules; the strictest of several wins, per limit', () => {
    expect(sso(['admin'])).toEqual([300, 43200]);
    expect(sso(['auditor'])).toEqual([600, 7200]);
    expect(sso(['admin', 'auditor'])).toEqual([300, 7200]);
    const limits = effectiveLimits(base, { roles: ['auditor', 'admin'] }).sso;
    expect(limits.idle.decidedBy).toEqual({ kind: 'rule', rule: 'admins' });
    expect(limits.absolute.decidedBy).toEqual({ kind: 'rule', rule: 'auditors' });
  });

  it('never loosen by a role rule that is laxer than the default', () => {
    const lax: Policy = { ...base, rules: [{ name: 'lax', match: { roles: ['staff'] }, idleTimeoutSeconds: 1200 }] };
    expect(effectiveLimits(lax, { roles: ['staff'] }).sso.idle).toEqual({ seconds: 900, decidedBy: { kind: 'default' } });
  });

  it('loosen idle on a matching IPv4 network, and only there', () => {
    expect(sso([], '10.20.3.4')).toEqual([1800, 43200]);
    expect(sso([], '10.21.0.1')).toEqual([900, 43200]);
    expect(sso([], '::ffff:10.20.3.4')).toEqual([1800, 43200]);
  });

  it('loosen idle on a matching IPv6 network', () => {
    expect(sso([], '2001:db8:1:ffff::1')).toEqual([2400, 43200]);
    expect(sso([], '2001:db8:2::1')).toEqual([900, 43200]);
  });

  it('never loosen past the idle ceiling; the ceiling is named as the decider', () => {
    const limits = effectiveLimits(base, { roles: [], ip: '10.20.5.9' }).sso;
    expect(limits.idle).toEqual({ seconds: 3600, decidedBy: { kind: 'ceiling' } });
  });

  it('keep a role rule\'s tightening on a loosening network', () => {
    expect(sso(['admin'], '10.20.3.4')).toEqual([300, 43200]);
  });

  it('ignore network rules without an IP or with a malformed one', () => {
    expect(sso([])).toEqual([900, 43200]);
    expect(sso([], 'not-an-ip')).toEqual([900, 43200]);
  });

  it('give RP sessions the SSO limits tightened by their client\'s rules', () => {
    const payments = effectiveLimits(base, { roles: [], client: 'payments-app' });
    expect(payments.sso.idle.seconds).toBe(900);
    expect(payments.rp).toEqual({
      idle: { seconds: 300, decidedBy: { kind: 'rule', rule: 'payments' } },
      absolute: { seconds: 3600, decidedBy: { kind: 'rule', rule: 'payments' } },
      refreshIsActivity: { value: false, decidedBy: { kind: 'default' } },
    });
    const reports = effectiveLimits(base, { roles: [], client: 'reports' }).rp!;
    expect([reports.idle.seconds, reports.absolute.seconds]).toEqual([900, 1800]);
    const other = effectiveLimits(base, { roles: [], client: 'wiki' }).rp!;
    expect(other.idle.decidedBy).toEqual({ kind: 'default' });
  });

  it('never let a client rule loosen an RP session past its SSO limits', () => {
    const policy: Policy = { ...base, rules: [{ name: 'slow', match: { clients: ['wiki'] }, idleTimeoutSeconds: 3000 }, base.rules[0]!] };
    const limits = effectiveLimits(policy, { roles: ['admin'], client: 'wiki' });
    expect(limits.rp!.idle).toEqual({ seconds: 300, decidedBy: { kind: 'rule', rule: 'admins' } });
  });

  it('carry a network loosening into RP sessions that have no stricter client rule', () => {
    const limits = effectiveLimits(base, { roles: [], client: 'wiki', ip: '10.20.1.1' });
    expect(limits.rp!.idle.seconds).toBe(1800);
    expect(effectiveLimits(base, { roles: [], client: 'payments-app', ip: '10.20.1.1' }).rp!.idle.seconds).toBe(300);
  });

  it('do not apply client rules to the SSO session', () => {
    expect(effectiveLimits(base, { roles: [], client: 'payments-app' }).sso.absolute.seconds).toBe(43200);
  });

  it('are explained with the deciding rule of each limit', () => {
    expect(explain(base, { roles: ['admin'], client: 'payments-app', ip: '10.20.1.1' })).toEqual({
      sso: { idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 43200, decidedBy: { idle: 'rule:admins', absolute: 'default' } },
      rp: {
        idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600, refreshIsActivity: false,
        decidedBy: { idle: 'rule:admins', absolute: 'rule:payments', refreshIsActivity: 'default' },
      },
    });
    expect(explain(base, { roles: [], ip: '10.20.5.1' }).sso.decidedBy.idle).toBe('ceiling');
  });

  describe('refreshIsActivity of an RP session', () => {
    const withRules = (org: boolean, ...rules: Policy['rules']): Policy => ({ ...base, refreshIsActivity: org, rules: [...base.rules, ...rules] });
    const apache = { name: 'apache', match: { clients: ['intranet'] }, refreshIsActivity: true };
    const spa = { name: 'spa', match: { clients: ['dashboard'] }, refreshIsActivity: false };

    it('is the org\'s value when no client rule sets it', () => {
      for (const org of [true, false]) {
        expect(effectiveLimits(withRules(org), { roles: [], client: 'wiki' }).rp!.refreshIsActivity).toEqual({ value: org, decidedBy: { kind: 'default' } });
        expect(effectiveLimits(withRules(org, apache), { roles: [], client: 'payments-app' }).rp!.refreshIsActivity.value).toBe(org);
      }
    });

    it('is the client rule\'s value, either way, overriding the org\'s', () => {
      for (const org of [true, false]) {
        const policy = withRules(org, apache, spa);
        expect(effectiveLimits(policy, { roles: [], client: 'intranet' }).rp!.refreshIsActivity).toEqual({ value: true, decidedBy: { kind: 'rule', rule: 'apache' } });
        expect(effectiveLimits(policy, { roles: [], client: 'dashboard' }).rp!.refreshIsActivity).toEqual({ value: false, decidedBy: { kind: 'rule', rule: 'spa' } });
      }
    });

    it('is decided by the client rule that sets it, not by one that only sets limits', () => {
      const limitsOnly = { name: 'limits', match: { clients: ['intranet'] }, idleTimeoutSeconds: 300 };
      const rp = effectiveLimits(withRules(false, limitsOnly, apache), { roles: ['admin'], client: 'intranet', ip: '10.20.1.1' }).rp!;
      expect(rp.refreshIsActivity).toEqual({ value: true, decidedBy: { kind: 'rule', rule: 'apache' } });
      expect(rp.idle).toEqual({ seconds: 300, decidedBy: { kind: 'rule', rule: 'admins' } });
    });

    it('is absent from SSO limits and shown by explain with its rule', () => {
      expect(effectiveLimits(withRules(false, apache), { roles: [] })).not.toHaveProperty('rp');
      expect(explain(withRules(false, apache), { roles: [], client: 'intranet' }).rp).toMatchObject({ refreshIsActivity: true, decidedBy: { refreshIsActivity: 'rule:apache' } });
      expect(explain(withRules(true), { roles: [], client: 'intranet' }).rp).toMatchObject({ refreshIsActivity: true, decidedBy: { refreshIsActivity: 'default' } });
    });
  });
});
