import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editRules, errorsByInput, formOf, inputOf, MAX_RULES, mergeErrors, parseRuleEdit, policyOfForm, readPolicyForm } from '../../../src/admin/console/policy-form.ts';
import { validatePolicy } from '../../../src/sessions/policy-validate.ts';
import { startCurfew, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';
import { consoleSeed, signInConsole } from './console-sign-in.ts';

const policy = {
  idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'reentry', refreshIsActivity: false, allowEnrollmentAtReentry: true,
  rules: [
    { name: 'admins', match: { roles: ['admin', 'ops'] }, idleTimeoutSeconds: 300 },
    { name: 'payments', match: { clients: ['payments-app'] }, absoluteTimeoutSeconds: 3600, refreshIsActivity: true },
    { name: 'office', match: { networks: ['10.20.0.0/16', '2001:db8::/32'] }, idleTimeoutSeconds: 1800 },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};
const context = { roles: ['admin', 'ops', 'staff'], clients: ['payments-app'] };

/** The form as a browser would post it: flat names, checkboxes only when ticked. */
function posted(form: ReturnType<typeof formOf>): Record<string, string> {
  const body: Record<string, string> = {
    idleTimeoutSeconds: form.idleTimeoutSeconds, absoluteTimeoutSeconds: form.absoluteTimeoutSeconds, warningSeconds: form.warningSeconds, mfa: form.mfa,
    'ceilings.idleTimeoutSeconds': form.ceilingIdleSeconds, 'ceilings.absoluteTimeoutSeconds': form.ceilingAbsoluteSeconds,
    ...(form.refreshIsActivity ? { refreshIsActivity: 'true' } : {}), ...(form.allowEnrollmentAtReentry ? { allowEnrollmentAtReentry: 'true' } : {}),
  };
  form.rules.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) body[`rules.${i}.${k}`] = v;
  });
  return body;
}

describe('the policy form, pure', () => {
  it('round-trips a policy: shown as a form, posted back, it is the same policy', () => {
    const back = policyOfForm(readPolicyForm(posted(formOf(policy))));
    expect(back.errors).toEqual([]);
    const valid = validatePolicy(back.input, context);
    expect(valid).toEqual({ ok: true, policy });
  });

  it('keeps what was typed, and names a limit that is not a number beside its field, over the type error', () => {
    const form = readPolicyForm({ ...posted(formOf(policy)), 'rules.1.idleTimeoutSeconds': 'soon', idleTimeoutSeconds: ' 600 ' });
    expect(form.rules[1]!.idleTimeoutSeconds).toBe('soon');
    const { input, errors } = policyOfForm(form);
    expect(errors).toEqual([{ field: 'rules.1.idleTimeoutSeconds', message: 'must be a number of seconds' }]);
    expect(input.idleTimeoutSeconds).toBe(600);
    const result = validatePolicy(input, context);
    expect(result.ok).toBe(false);
    const merged = mergeErrors(errors, result.ok ? [] : result.errors);
    expect(merged.filter((e) => e.field === 'rules.1.idleTimeoutSeconds')).toEqual([{ field: 'rules.1.idleTimeoutSeconds', message: 'must be a number of seconds' }]);
  });

  it('reads rows in index order, however many, and never past MAX_RULES', () => {
    const body: Record<string, string> = { 'rules.10.name': 'ten', 'rules.2.name': 'two', 'rules.30.name': 'thirty' };
    expect(readPolicyForm(body).rules.map((r) => r.name)).toEqual(['two', 'ten', 'thirty']);
    const many = Object.fromEntries(Array.from({ length: MAX_RULES + 50 }, (_, i) => [`rules.${i}.name`, `r${i}`]));
    expect(readPolicyForm(many).rules).toHaveLength(MAX_RULES);
    // Junk never throws: unknown names are ignored, odd values are kept as typed.
    expect(() => readPolicyForm({ 'rules.x.name': 'a', 'rules.1.refreshIsActivity': 'maybe', __proto__: 'x', constructor: 'y' })).not.toThrow();
    expect(readPolicyForm({ 'rules.1.refreshIsActivity': 'maybe' }).rules[0]!.refreshIsActivity).toBe('');
  });

  it('adds, removes and moves rules; an edit out of range changes nothing', () => {
    const form = formOf(policy);
    const names = (f: typeof form) => f.rules.map((r) => r.name);
    expect(names(editRules(form, parseRuleEdit('add')!))).toEqual(['admins', 'payments', 'office', '']);
    expect(names(editRules(form, parseRuleEdit('up:2')!))).toEqual(['admins', 'office', 'payments']);
    expect(names(editRules(form, parseRuleEdit('down:0')!))).toEqual(['payments', 'admins', 'office']);
    expect(names(editRules(form, parseRuleEdit('remove:1')!))).toEqual(['admins', 'office']);
    expect(names(editRules(form, parseRuleEdit('up:0')!))).toEqual(['admins', 'payments', 'office']);
    expect(names(editRules(form, parseRuleEdit('down:2')!))).toEqual(['admins', 'payments', 'office']);
    expect(names(editRules(form, parseRuleEdit('remove:9')!))).toEqual(['admins', 'payments', 'office']);
    expect(parseRuleEdit('save')).toBeUndefined();
    expect(parseRuleEdit('remove:-1')).toBeUndefined();
  });

  it('places each validation error beside its input', () => {
    expect(inputOf('rules.2.match.networks.0')).toBe('rules.2.networks');
    expect(inputOf('rules.0.match.roles.1')).toBe('rules.0.roles');
    expect(inputOf('rules.3.match.clients')).toBe('rules.3.clients');
    expect(inputOf('rules.1.name')).toBe('rules.1.name');
    expect(inputOf('rules.1.match')).toBe('rules.1');
    expect(inputOf('rules.1')).toBe('rules.1');
    expect(inputOf('idleTimeoutSeconds')).toBe('idleTimeoutSeconds');
    expect(inputOf('ceilings.absoluteTimeoutSeconds')).toBe('ceilings.absoluteTimeoutSeconds');
    expect(inputOf('(policy)')).toBe('');
    const result = validatePolicy({ idleTimeoutSeconds: 7200, absoluteTimeoutSeconds: 3600, rules: [{ name: 'x', match: { roles: ['wizard'], networks: ['10.0.0.0/99'] }, idleTimeoutSeconds: 600 }] }, context);
    expect(result.ok).toBe(false);
    const by = errorsByInput(result.ok ? [] : result.errors);
    expect(by['rules.0.networks']).toEqual(['"10.0.0.0/99" is not a valid CIDR']);
    expect(by['rules.0.roles']).toEqual(['unknown role "wizard"']);
    expect(by['rules.0']).toEqual(['a network rule cannot also match roles or clients']);
    expect(by.idleTimeoutSeconds).toContain('must not exceed absoluteTimeoutSeconds');
  });
});

describe('the policy form over HTTP', () => {
  let h: Harness;
  let ua: UserAgent;
  let csrf: string;
  beforeAll(async () => {
    h = await startCurfew('memory', { seed: consoleSeed() });
    ua = h.userAgent();
    csrf = await signInConsole(h, ua);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('works without JavaScript: a rule edit re-shows the form, unsaved', async () => {
    const before = (await h.store.directory.getOrg('acme'))!.policy;
    const page = await ua.request(`${h.url}/admin/policy`, { form: { csrf, ...posted(formOf(before)), view: 'form', action: 'add' } });
    expect(page.status).toBe(200);
    expect(page.html).toContain('name="rules.0.name"');
    expect((await h.store.directory.getOrg('acme'))!.policy).toEqual(before);
  });

  it('answers junk with a 400 naming the fields, never a 500, and saves nothing', async () => {
    const before = (await h.store.directory.getOrg('acme'))!.policy;
    const junk: Array<Record<string, string>> = [
      { 'rules.99999.name': 'x', 'rules.0.networks': '::/999', view: 'form' },
      { view: 'form', mfa: '<script>', idleTimeoutSeconds: '1e400' },
      { view: 'json', policy: '{"rules": {"__proto__": 1}}' },
      { view: 'json', policy: 'not json' },
      { view: 'form', action: 'up:99999999999' },
    ];
    for (const form of junk) {
      const page = await ua.request(`${h.url}/admin/policy`, { form: { csrf, ...form } });
      expect(page.status, JSON.stringify(form)).toBe(400);
      expect(page.html).not.toContain('<script>');
    }
    expect((await h.store.directory.getOrg('acme'))!.policy).toEqual(before);
  });

  it('refuses a form without its CSRF token', async () => {
    const page = await ua.request(`${h.url}/admin/policy`, { form: { view: 'form', action: 'save', idleTimeoutSeconds: '600' } });
    expect(page.status).toBe(403);
  });
});
