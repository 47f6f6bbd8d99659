import { policySchema, type FieldError } from '../../sessions/policy-validate.ts';

/**
 * The console's policy form (issue 12): the policy of SPEC §4 as the text an admin typed, so a
 * refused form comes back exactly as sent. Pure: reading a posted form, turning it into the
 * policy JSON the operations validate, editing its rules table, placing errors beside inputs.
 */

export type RuleRefresh = '' | 'true' | 'false';

export interface RuleForm {
  name: string;
  /** Lists as typed: comma- or space-separated. */
  roles: string;
  clients: string;
  networks: string;
  idleTimeoutSeconds: string;
  absoluteTimeoutSeconds: string;
  /** '' keeps the org's value; only client rules may set it. */
  refreshIsActivity: RuleRefresh;
}

export interface PolicyForm {
  idleTimeoutSeconds: string;
  absoluteTimeoutSeconds: string;
  warningSeconds: string;
  mfa: string;
  refreshIsActivity: boolean;
  allowEnrollmentAtReentry: boolean;
  ceilingIdleSeconds: string;
  ceilingAbsoluteSeconds: string;
  rules: RuleForm[];
}

/** A form of many rules is a mistake or an attack; the validator would name each one anyway. */
export const MAX_RULES = 200;

export const emptyRule = (): RuleForm => ({ name: '', roles: '', clients: '', networks: '', idleTimeoutSeconds: '', absoluteTimeoutSeconds: '', refreshIsActivity: '' });

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A value of the JSON as the form's text: numbers and strings as is, anything else as JSON. */
const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v));
const listText = (v: unknown): string => (Array.isArray(v) ? v.map(text).join(', ') : text(v));

/** What a policy gets for a field it leaves out (SPEC §4), shown as such in the form. */
const DEFAULTS = {
  warningSeconds: policySchema.shape.warningSeconds.parse(undefined),
  mfa: policySchema.shape.mfa.parse(undefined),
  ceilings: policySchema.shape.ceilings.parse(undefined),
};

/**
 * The form showing a policy, or whatever JSON an admin sent (a refused JSON policy shown as a
 * form keeps what it can; fields the form has no input for are left out).
 */
export function formOf(input: unknown): PolicyForm {
  const p = isRecord(input) ? input : {};
  const ceilings = isRecord(p.ceilings) ? p.ceilings : p.ceilings === undefined ? DEFAULTS.ceilings : {};
  const rules = Array.isArray(p.rules) ? p.rules.slice(0, MAX_RULES) : [];
  return {
    idleTimeoutSeconds: text(p.idleTimeoutSeconds),
    absoluteTimeoutSeconds: text(p.absoluteTimeoutSeconds),
    warningSeconds: text(p.warningSeconds ?? DEFAULTS.warningSeconds),
    mfa: text(p.mfa ?? DEFAULTS.mfa),
    refreshIsActivity: p.refreshIsActivity === true,
    allowEnrollmentAtReentry: p.allowEnrollmentAtReentry === true,
    ceilingIdleSeconds: text(ceilings.idleTimeoutSeconds),
    ceilingAbsoluteSeconds: text(ceilings.absoluteTimeoutSeconds),
    rules: rules.map((r: unknown) => {
      const rule = isRecord(r) ? r : {};
      const match = isRecord(rule.match) ? rule.match : {};
      return {
        name: text(rule.name),
        roles: listText(match.roles),
        clients: listText(match.clients),
        networks: listText(match.networks),
        idleTimeoutSeconds: text(rule.idleTimeoutSeconds),
        absoluteTimeoutSeconds: text(rule.absoluteTimeoutSeconds),
        refreshIsActivity: rule.refreshIsActivity === true ? 'true' : rule.refreshIsActivity === false ? 'false' : '',
      };
    }),
  };
}

/** A posted form (flat `rules.2.name` keys); rows in the order of their indexes. */
export function readPolicyForm(body: Record<string, unknown>): PolicyForm {
  const get = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const indexes = new Set<number>();
  for (const key of Object.keys(body)) {
    const m = /^rules\.(\d{1,4})\./.exec(key);
    if (m) indexes.add(Number(m[1]));
  }
  const rules = [...indexes].sort((a, b) => a - b).slice(0, MAX_RULES).map((i): RuleForm => {
    const at = (f: string) => get(`rules.${i}.${f}`);
    const refresh = at('refreshIsActivity');
    return {
      name: at('name'), roles: at('roles'), clients: at('clients'), networks: at('networks'),
      idleTimeoutSeconds: at('idleTimeoutSeconds'), absoluteTimeoutSeconds: at('absoluteTimeoutSeconds'),
      refreshIsActivity: refresh === 'true' || refresh === 'false' ? refresh : '',
    };
  });
  return {
    idleTimeoutSeconds: get('idleTimeoutSeconds'),
    absoluteTimeoutSeconds: get('absoluteTimeoutSeconds'),
    warningSeconds: get('warningSeconds'),
    mfa: get('mfa'),
    // A checkbox is sent only when ticked.
    refreshIsActivity: get('refreshIsActivity') === 'true',
    allowEnrollmentAtReentry: get('allowEnrollmentAtReentry') === 'true',
    ceilingIdleSeconds: get('ceilings.idleTimeoutSeconds'),
    ceilingAbsoluteSeconds: get('ceilings.absoluteTimeoutSeconds'),
    rules,
  };
}

const list = (value: string) => value.split(/[\s,]+/).map((v) => v.trim()).filter(Boolean);

/**
 * The policy JSON a form says, for the operations to validate, and the errors only the form can
 * see: a limit that is not a number. Such a value stays in the JSON as typed, so the policy is
 * refused whatever else is right; its form error replaces the validator's type error.
 */
export function policyOfForm(form: PolicyForm): { input: Record<string, unknown>; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const seconds = (field: string, value: string): number | string | undefined => {
    const t = value.trim();
    if (t === '') return undefined;
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    errors.push({ field, message: 'must be a number of seconds' });
    return t;
  };
  const put = (target: Record<string, unknown>, key: string, value: unknown) => {
    if (value !== undefined) target[key] = value;
  };
  const input: Record<string, unknown> = {};
  put(input, 'idleTimeoutSeconds', seconds('idleTimeoutSeconds', form.idleTimeoutSeconds));
  put(input, 'absoluteTimeoutSeconds', seconds('absoluteTimeoutSeconds', form.absoluteTimeoutSeconds));
  put(input, 'warningSeconds', seconds('warningSeconds', form.warningSeconds));
  input.mfa = form.mfa;
  input.refreshIsActivity = form.refreshIsActivity;
  input.allowEnrollmentAtReentry = form.allowEnrollmentAtReentry;
  input.rules = form.rules.map((r, i) => {
    const at = `rules.${i}`;
    const match: Record<string, string[]> = {};
    for (const key of ['roles', 'clients', 'networks'] as const) if (list(r[key]).length) match[key] = list(r[key]);
    const rule: Record<string, unknown> = { name: r.name.trim(), match };
    put(rule, 'idleTimeoutSeconds', seconds(`${at}.idleTimeoutSeconds`, r.idleTimeoutSeconds));
    put(rule, 'absoluteTimeoutSeconds', seconds(`${at}.absoluteTimeoutSeconds`, r.absoluteTimeoutSeconds));
    if (r.refreshIsActivity) rule.refreshIsActivity = r.refreshIsActivity === 'true';
    return rule;
  });
  const ceilings: Record<string, unknown> = {};
  put(ceilings, 'idleTimeoutSeconds', seconds('ceilings.idleTimeoutSeconds', form.ceilingIdleSeconds));
  put(ceilings, 'absoluteTimeoutSeconds', seconds('ceilings.absoluteTimeoutSeconds', form.ceilingAbsoluteSeconds));
  input.ceilings = ceilings;
  return { input, errors };
}

/** The form's own errors first; the validator's on the same fields said the same less clearly. */
export function mergeErrors(form: readonly FieldError[], validator: readonly FieldError[]): FieldError[] {
  const mine = new Set(form.map((e) => e.field));
  return [...form, ...validator.filter((e) => !mine.has(e.field))];
}

/** Editing the rules table: each is a submit button, so it works without JavaScript too. */
export type RuleEdit = { kind: 'add' } | { kind: 'remove' | 'up' | 'down'; index: number };

export function parseRuleEdit(action: string): RuleEdit | undefined {
  if (action === 'add') return { kind: 'add' };
  const m = /^(remove|up|down):(\d{1,4})$/.exec(action);
  return m ? { kind: m[1] as 'remove' | 'up' | 'down', index: Number(m[2]) } : undefined;
}

/** The form with its rules edited; an edit out of range changes nothing. */
export function editRules(form: PolicyForm, edit: RuleEdit): PolicyForm {
  const rules = [...form.rules];
  if (edit.kind === 'add') {
    if (rules.length < MAX_RULES) rules.push(emptyRule());
    return { ...form, rules };
  }
  const i = edit.index;
  if (i >= rules.length) return form;
  if (edit.kind === 'remove') rules.splice(i, 1);
  const j = edit.kind === 'up' ? i - 1 : edit.kind === 'down' ? i + 1 : -1;
  if (j >= 0 && j < rules.length) [rules[i], rules[j]] = [rules[j]!, rules[i]!];
  return { ...form, rules };
}

/**
 * Which input a validation error belongs beside: `rules.2.match.networks.0` is rule 2's
 * networks input; `rules.2` and `rules.2.match` are the row's; what no input holds is `''`
 * (shown above the form only).
 */
export function inputOf(field: string): string {
  const rule = /^rules\.(\d+)(?:\.(.*))?$/.exec(field);
  if (rule) {
    const [, i, rest = ''] = rule;
    const m = /^match\.(roles|clients|networks)(?:\.\d+)?$/.exec(rest);
    if (m) return `rules.${i}.${m[1]}`;
    if (['name', 'idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'refreshIsActivity'].includes(rest)) return `rules.${i}.${rest}`;
    return `rules.${i}`;
  }
  const top = ['idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'warningSeconds', 'mfa', 'refreshIsActivity', 'allowEnrollmentAtReentry', 'ceilings.idleTimeoutSeconds', 'ceilings.absoluteTimeoutSeconds'];
  if (top.includes(field)) return field;
  return field.startsWith('ceilings') ? 'ceilings.idleTimeoutSeconds' : '';
}

/** Errors grouped by the input they are shown beside. */
export function errorsByInput(errors: readonly FieldError[]): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const e of errors) {
    const input = inputOf(e.field);
    if (input) (by[input] ??= []).push(e.message);
  }
  return by;
}

/** An input's id, for its label, its error and the summary's link to it. */
export const inputId = (name: string) => `f-${name.replace(/\./g, '-')}`;
