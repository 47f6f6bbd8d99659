import { describe, expect, it } from 'vitest';
import { parseCidr, validatePolicy } from '../../src/sessions/policy-validate.ts';

const context = { clients: ['payments-app', 'wiki'], roles: ['admin', 'staff'] };

/** The example of SPEC §4, verbatim. */
const SPEC_EXAMPLE = {
  idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 43200, warningSeconds: 120,
  mfa: 'reentry', refreshIsActivity: false, allowEnrollmentAtReentry: false,
  rules: [
    { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
    { name: 'payments', match: { clients: ['payments-app'] }, idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600 },
    { name: 'office', match: { networks: ['10.20.0.0/16'] }, idleTimeoutSeconds: 1800 },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};

const fields = (input: unknown) => {
  const result = validatePolicy(input, context);
  return result.ok ? [] : result.errors.map((e) => e.field);
};

describe('policy validation', () => {
  it('accepts the SPEC example as it is', () => {
    const result = validatePolicy(SPEC_EXAMPLE, context);
    expect(result).toEqual({ ok: true, policy: SPEC_EXAMPLE });
  });

  it('fills optional fields with their defaults', () => {
    const result = validatePolicy({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600 }, context);
    expect(result.ok && result.policy).toMatchObject({ warningSeconds: 120, mfa: 'reentry', refreshIsActivity: false, rules: [] });
  });

  it('checks the bounds: 60 <= idle <= absolute <= 31 days, warning < idle', () => {
    expect(fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: 59 })).toContain('idleTimeoutSeconds');
    expect(fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: 60, warningSeconds: 30, rules: [] })).toEqual([]);
    expect(fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: 50000, absoluteTimeoutSeconds: 43200 })).toContain('idleTimeoutSeconds');
    expect(fields({ ...SPEC_EXAMPLE, absoluteTimeoutSeconds: 31 * 86400 + 1, ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 31 * 86400 } })).toContain('absoluteTimeoutSeconds');
    expect(fields({ ...SPEC_EXAMPLE, warningSeconds: 900 })).toContain('warningSeconds');
    expect(fields({ ...SPEC_EXAMPLE, warningSeconds: 899, rules: [] })).toEqual([]);
    expect(fields({ ...SPEC_EXAMPLE, warningSeconds: 300 })).toContain('rules.0.idleTimeoutSeconds');
  });

  it('requires integers', () => {
    expect(fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: 900.5 })).toContain('idleTimeoutSeconds');
    expect(fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: '900' })).toContain('idleTimeoutSeconds');
  });

  it('rejects unknown clients and roles, and invalid CIDRs', () => {
    const bad = fields({
      ...SPEC_EXAMPLE,
      rules: [
        { name: 'r', match: { roles: ['root'] }, idleTimeoutSeconds: 300 },
        { name: 'c', match: { clients: ['nope'] }, idleTimeoutSeconds: 300 },
        { name: 'n', match: { networks: ['10.0.0.0/33', '::1/129', 'banana'] }, idleTimeoutSeconds: 1800 },
      ],
    });
    expect(bad).toEqual(expect.arrayContaining([
      'rules.0.match.roles.0', 'rules.1.match.clients.0', 'rules.2.match.networks.0', 'rules.2.match.networks.1', 'rules.2.match.networks.2',
    ]));
  });

  it('names every bad field of a policy at once', () => {
    const bad = fields({ ...SPEC_EXAMPLE, idleTimeoutSeconds: 10, warningSeconds: -1, mfa: 'sometimes', extra: 1 });
    expect(bad).toEqual(expect.arrayContaining(['warningSeconds', 'mfa']));
    expect(bad.length).toBeGreaterThanOrEqual(3);
  });

  it('rejects a rule that matches nothing, sets nothing, or duplicates a name', () => {
    expect(fields({ ...SPEC_EXAMPLE, rules: [{ name: 'x', match: {}, idleTimeoutSeconds: 300 }] })).toContain('rules.0.match');
    expect(fields({ ...SPEC_EXAMPLE, rules: [{ name: 'x', match: { roles: ['admin'] } }] })).toContain('rules.0');
    expect(fields({ ...SPEC_EXAMPLE, rules: [SPEC_EXAMPLE.rules[0], SPEC_EXAMPLE.rules[0]] })).toContain('rules.1.name');
  });

  describe('client-rule refreshIsActivity', () => {
    const rule = (match: Record<string, string[]>, extra: Record<string, unknown> = {}) => ({ name: 'r', match, refreshIsActivity: true, ...extra });
    it('is accepted on a client rule, alone or with limits', () => {
      for (const r of [rule({ clients: ['wiki'] }), rule({ clients: ['wiki'] }, { idleTimeoutSeconds: 300 }), rule({ clients: ['wiki'] }, { refreshIsActivity: false })]) {
        const result = validatePolicy({ ...SPEC_EXAMPLE, rules: [r] }, context);
        expect(result.ok, JSON.stringify(result)).toBe(true);
        expect(result.ok && result.policy.rules[0]!.refreshIsActivity).toBe(r.refreshIsActivity);
      }
    });
    it('is refused on a role rule and on a network rule, naming the field', () => {
      expect(fields({ ...SPEC_EXAMPLE, rules: [rule({ roles: ['admin'] }, { idleTimeoutSeconds: 300 })] })).toEqual(['rules.0.refreshIsActivity']);
      expect(fields({ ...SPEC_EXAMPLE, rules: [rule({ networks: ['10.0.0.0/8'] }, { idleTimeoutSeconds: 1800 })] })).toEqual(['rules.0.refreshIsActivity']);
      expect(fields({ ...SPEC_EXAMPLE, rules: [rule({ roles: ['admin'], clients: ['wiki'] })] })).toEqual(['rules.0.refreshIsActivity']);
    });
    it('must be a boolean', () => {
      expect(fields({ ...SPEC_EXAMPLE, rules: [rule({ clients: ['wiki'] }, { refreshIsActivity: 'yes' })] })).toEqual(['rules.0.refreshIsActivity']);
    });
    it('may not be contradicted by another rule for the same client; agreeing rules are fine', () => {
      const a = { name: 'a', match: { clients: ['wiki', 'payments-app'] }, refreshIsActivity: true };
      expect(fields({ ...SPEC_EXAMPLE, rules: [a, { name: 'b', match: { clients: ['wiki'] }, refreshIsActivity: false }] })).toEqual(['rules.1.refreshIsActivity']);
      expect(fields({ ...SPEC_EXAMPLE, rules: [a, { name: 'b', match: { clients: ['wiki'] }, refreshIsActivity: true }] })).toEqual([]);
      expect(fields({ ...SPEC_EXAMPLE, rules: [a, { name: 'b', match: { clients: ['wiki'] }, idleTimeoutSeconds: 300 }] })).toEqual([]);
    });
  });

  it('keeps org defaults within the ceilings', () => {
    expect(fields({ ...SPEC_EXAMPLE, ceilings: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 86400 } })).toContain('idleTimeoutSeconds');
  });
});

describe('CIDR parsing', () => {
  it.each([
    ['10.20.0.0/16', 'ipv4', 16],
    ['0.0.0.0/0', 'ipv4', 0],
    ['192.168.1.1/32', 'ipv4', 32],
    ['2001:db8::/32', 'ipv6', 32],
    ['::1/128', 'ipv6', 128],
  ])('accepts %s', (cidr, family, prefix) => {
    expect(parseCidr(cidr)).toMatchObject({ family, prefix });
  });
  it.each(['10.20.0.0', '10.20.0.0/', '10.20.0.0/33', '300.1.1.1/8', '::1/129', 'fe80::/abc', ''])('rejects %s', (cidr) => {
    expect(parseCidr(cidr)).toBeUndefined();
  });
});

/** SPEC §4: every bad field at once, type errors and range errors together (issue 12 item 3). */
describe('policy validation reports every bad field at once', () => {
  const errorsOf = (input: unknown) => {
    const result = validatePolicy(input, context);
    return result.ok ? [] : result.errors;
  };

  it('reports idle > absolute, a /99 CIDR and an unnamed one-field rule together', () => {
    const errors = errorsOf({
      idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 5,
      rules: [{ name: 'office', match: { networks: ['10.0.0.0/99'] }, idleTimeoutSeconds: 1800 }, { match: { roles: ['staff'] } }],
    });
    const fieldsOf = errors.map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining([
      'idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'rules.0.match.networks.0', 'rules.1.name', 'rules.1',
    ]));
    expect(errors.find((e) => e.field === 'rules.1.name')?.message).toBe('is required');
    expect(errors.filter((e) => e.field === 'idleTimeoutSeconds').map((e) => e.message)).toEqual(expect.arrayContaining([
      expect.stringContaining('between'), 'must not exceed absoluteTimeoutSeconds',
    ]));
  });

  it('reports a type error beside range errors, bad CIDRs and unknown roles and clients', () => {
    const fieldsOf = errorsOf({
      ...SPEC_EXAMPLE,
      mfa: 'sometimes',
      idleTimeoutSeconds: 30,
      rules: [
        { name: 'r', match: { roles: ['root'] }, idleTimeoutSeconds: 'five' },
        { name: 'c', match: { clients: ['nope'] }, idleTimeoutSeconds: 300 },
        { name: 'n', match: { networks: ['banana'] }, idleTimeoutSeconds: 1800 },
      ],
    }).map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining([
      'mfa', 'idleTimeoutSeconds', 'rules.0.idleTimeoutSeconds', 'rules.0.match.roles.0', 'rules.1.match.clients.0', 'rules.2.match.networks.0',
    ]));
  });

  it('reports a non-integer limit and warning >= idle together', () => {
    const fieldsOf = errorsOf({ ...SPEC_EXAMPLE, absoluteTimeoutSeconds: 43200.5, warningSeconds: 900 }).map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining(['absoluteTimeoutSeconds', 'warningSeconds']));
  });

  it('reports duplicate rule names beside a bad ceiling and an unknown field', () => {
    const fieldsOf = errorsOf({
      ...SPEC_EXAMPLE,
      color: 'blue',
      ceilings: { idleTimeoutSeconds: 'x', absoluteTimeoutSeconds: 86400 },
      rules: [SPEC_EXAMPLE.rules[0], { ...SPEC_EXAMPLE.rules[0], extra: 1 }],
    }).map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining(['color', 'ceilings.idleTimeoutSeconds', 'rules.1.name', 'rules.1.extra']));
  });

  it('reports every bad rule of a list: not an object, no match, no limit', () => {
    const fieldsOf = errorsOf({ ...SPEC_EXAMPLE, rules: [42, { name: 'm' }, { name: 'empty', match: { roles: ['staff'] } }] }).map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining(['rules.0', 'rules.1.match', 'rules.2']));
  });

  it('reports limits above 31 days and ceilings below the defaults', () => {
    const fieldsOf = errorsOf({ ...SPEC_EXAMPLE, absoluteTimeoutSeconds: 32 * 86400, idleTimeoutSeconds: 7200 }).map((e) => e.field);
    expect(fieldsOf).toEqual(expect.arrayContaining(['absoluteTimeoutSeconds', 'idleTimeoutSeconds']));
    expect(fieldsOf.filter((f) => f === 'absoluteTimeoutSeconds').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses input that is not an object, and requires both limits', () => {
    expect(errorsOf([]).map((e) => e.field)).toEqual(['(policy)']);
    expect(errorsOf({}).map((e) => e.field)).toEqual(['idleTimeoutSeconds', 'absoluteTimeoutSeconds']);
  });
});
