import { isIP } from 'node:net';
import { z } from 'zod';
import type { Policy } from './policy-types.ts';

export const MIN_TIMEOUT_SECONDS = 60;
export const MAX_TIMEOUT_SECONDS = 31 * 24 * 3600;

export interface FieldError {
  field: string;
  message: string;
}

export type PolicyValidation = { ok: true; policy: Policy } | { ok: false; errors: FieldError[] };

/** What a policy may refer to: the org's clients and the roles its users can hold. */
export interface PolicyContext {
  clients: readonly string[];
  roles: readonly string[];
}

const seconds = z.number().int('must be an integer');
const limits = { idleTimeoutSeconds: seconds.optional(), absoluteTimeoutSeconds: seconds.optional() };

const ruleSchema = z
  .object({
    name: z.string().min(1, 'is required').max(100),
    match: z
      .object({
        roles: z.array(z.string().min(1)).optional(),
        clients: z.array(z.string().min(1)).optional(),
        networks: z.array(z.string()).optional(),
      })
      .strict(),
    ...limits,
    refreshIsActivity: z.boolean().optional(),
  })
  .strict();

/** The structure of a policy (SPEC §4); `validatePolicy` adds the rules between fields. */
export const policySchema = z
  .object({
    idleTimeoutSeconds: seconds,
    absoluteTimeoutSeconds: seconds,
    warningSeconds: seconds.min(0, 'must not be negative').default(120),
    mfa: z.enum(['reentry', 'always', 'off']).default('reentry'),
    refreshIsActivity: z.boolean().default(false),
    allowEnrollmentAtReentry: z.boolean().default(false),
    rules: z.array(ruleSchema).default([]),
    ceilings: z
      .object({ idleTimeoutSeconds: seconds, absoluteTimeoutSeconds: seconds })
      .strict()
      .default({ idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: MAX_TIMEOUT_SECONDS }),
  })
  .strict();

/** `10.20.0.0/16`, `2001:db8::/32`: an address and a prefix length that fits its family. */
export function parseCidr(value: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [, address, bits] = /^([^/]+)\/(\d{1,3})$/.exec(value.trim()) ?? [];
  if (address === undefined || bits === undefined) return undefined;
  const version = isIP(address);
  const prefix = Number(bits);
  if (version === 4 && prefix <= 32) return { address, prefix, family: 'ipv4' };
  if (version === 6 && prefix <= 128) return { address, prefix, family: 'ipv6' };
  return undefined;
}

function inRange(errors: FieldError[], field: string, value: number | undefined): void {
  if (value === undefined) return;
  if (value < MIN_TIMEOUT_SECONDS || value > MAX_TIMEOUT_SECONDS) {
    errors.push({ field, message: `must be between ${MIN_TIMEOUT_SECONDS} and ${MAX_TIMEOUT_SECONDS} seconds` });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (...parts: Array<string | number>) => parts.filter((p) => p !== '').join('.');

/**
 * Parses one field on its own and records its errors under `path`; `undefined` when it is bad.
 * Fields are parsed one by one so that one type error does not hide the others' range errors.
 */
function take<T extends z.ZodType>(errors: FieldError[], path: string, schema: T, value: unknown): z.infer<T> | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const message = value === undefined && issue.path.length === 0 ? 'is required' : issue.message;
    errors.push({ field: join(path, ...issue.path.map(String)) || '(policy)', message });
  }
  return undefined;
}

function unknownKeys(errors: FieldError[], path: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) errors.push({ field: join(path, key), message: 'is not a known field' });
  }
}

/** One rule, each field parsed on its own; `undefined` for a field that is bad. */
interface LooseRule {
  name?: string;
  roles: string[];
  clients: string[];
  networks: string[];
  idleTimeoutSeconds?: number;
  absoluteTimeoutSeconds?: number;
  refreshIsActivity?: boolean;
  /** Whether its match and limits parsed, so checks of what is missing among them are meaningful. */
  whole: boolean;
}

const RULE_KEYS = ['name', 'match', 'idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'refreshIsActivity'] as const;
const MATCH_KEYS = ['roles', 'clients', 'networks'] as const;
const POLICY_KEYS = ['idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'warningSeconds', 'mfa', 'refreshIsActivity', 'allowEnrollmentAtReentry', 'rules', 'ceilings'] as const;

function looseRule(errors: FieldError[], at: string, input: unknown): LooseRule | undefined {
  if (!isRecord(input)) {
    errors.push({ field: at, message: 'must be an object' });
    return undefined;
  }
  unknownKeys(errors, at, input, RULE_KEYS);
  const name = take(errors, `${at}.name`, z.string().min(1, 'is required').max(100), input.name);
  // The rule's other checks need its match and limits, not its name: a rule without a name still has them judged.
  const before = errors.length;
  const list = z.array(z.string().min(1)).optional();
  let roles: string[] | undefined, clients: string[] | undefined, networks: string[] | undefined;
  if (!isRecord(input.match)) {
    errors.push({ field: `${at}.match`, message: input.match === undefined ? 'is required' : 'must be an object' });
  } else {
    unknownKeys(errors, `${at}.match`, input.match, MATCH_KEYS);
    roles = take(errors, `${at}.match.roles`, list, input.match.roles);
    clients = take(errors, `${at}.match.clients`, list, input.match.clients);
    networks = take(errors, `${at}.match.networks`, z.array(z.string()).optional(), input.match.networks);
  }
  const idle = take(errors, `${at}.idleTimeoutSeconds`, seconds.optional(), input.idleTimeoutSeconds);
  const absolute = take(errors, `${at}.absoluteTimeoutSeconds`, seconds.optional(), input.absoluteTimeoutSeconds);
  const refresh = take(errors, `${at}.refreshIsActivity`, z.boolean().optional(), input.refreshIsActivity);
  return {
    ...(name !== undefined ? { name } : {}),
    roles: roles ?? [], clients: clients ?? [], networks: networks ?? [],
    ...(idle !== undefined ? { idleTimeoutSeconds: idle } : {}),
    ...(absolute !== undefined ? { absoluteTimeoutSeconds: absolute } : {}),
    ...(refresh !== undefined ? { refreshIsActivity: refresh } : {}),
    whole: errors.length === before,
  };
}

function ruleErrors(errors: FieldError[], rules: ReadonlyArray<LooseRule | undefined>, warning: number | undefined, context: PolicyContext): void {
  const names = new Set<string>();
  // Two client rules may not disagree about one client's refreshes: no order would be obvious.
  const refreshSetters = new Map<string, { rule: string; value: boolean }>();
  rules.forEach((rule, i) => {
    if (!rule) return;
    const at = `rules.${i}`;
    if (rule.name !== undefined) {
      if (names.has(rule.name)) errors.push({ field: `${at}.name`, message: `duplicates another rule's name "${rule.name}"` });
      names.add(rule.name);
    }
    const { roles, clients, networks } = rule;
    if (rule.whole && !roles.length && !clients.length && !networks.length) {
      errors.push({ field: `${at}.match`, message: 'must name at least one role, client or network' });
    }
    roles.forEach((role, j) => {
      if (!context.roles.includes(role)) errors.push({ field: `${at}.match.roles.${j}`, message: `unknown role "${role}"` });
    });
    clients.forEach((client, j) => {
      if (!context.clients.includes(client)) errors.push({ field: `${at}.match.clients.${j}`, message: `unknown client "${client}"` });
    });
    networks.forEach((cidr, j) => {
      if (!parseCidr(cidr)) errors.push({ field: `${at}.match.networks.${j}`, message: `"${cidr}" is not a valid CIDR` });
    });
    if (rule.whole && rule.idleTimeoutSeconds === undefined && rule.absoluteTimeoutSeconds === undefined && rule.refreshIsActivity === undefined) {
      errors.push({ field: at, message: 'must set idleTimeoutSeconds, absoluteTimeoutSeconds or refreshIsActivity' });
    }
    if (rule.refreshIsActivity !== undefined && (roles.length || networks.length)) {
      // A refresh belongs to one client: only a client rule can say what its refreshes mean.
      errors.push({ field: `${at}.refreshIsActivity`, message: 'only client rules may set refreshIsActivity' });
    }
    if (rule.refreshIsActivity !== undefined) {
      for (const client of clients) {
        const earlier = refreshSetters.get(client);
        if (earlier && earlier.value !== rule.refreshIsActivity) {
          errors.push({ field: `${at}.refreshIsActivity`, message: `contradicts rule "${earlier.rule}" for client "${client}"` });
        } else if (!earlier) refreshSetters.set(client, { rule: rule.name ?? at, value: rule.refreshIsActivity });
      }
    }
    inRange(errors, `${at}.idleTimeoutSeconds`, rule.idleTimeoutSeconds);
    inRange(errors, `${at}.absoluteTimeoutSeconds`, rule.absoluteTimeoutSeconds);
    if (rule.idleTimeoutSeconds !== undefined && rule.absoluteTimeoutSeconds !== undefined && rule.idleTimeoutSeconds > rule.absoluteTimeoutSeconds) {
      errors.push({ field: `${at}.idleTimeoutSeconds`, message: 'must not exceed the rule\'s absoluteTimeoutSeconds' });
    }
    if (networks.length && rule.absoluteTimeoutSeconds !== undefined) {
      errors.push({ field: `${at}.absoluteTimeoutSeconds`, message: 'network rules may only change idleTimeoutSeconds' });
    }
    if (networks.length && (roles.length || clients.length)) {
      errors.push({ field: `${at}.match`, message: 'a network rule cannot also match roles or clients' });
    }
    if (rule.idleTimeoutSeconds !== undefined && warning !== undefined && rule.idleTimeoutSeconds <= warning) {
      errors.push({ field: `${at}.idleTimeoutSeconds`, message: 'must be greater than warningSeconds' });
    }
  });
}

/**
 * Validates a whole policy (SPEC §4). Returns every bad field at once — type errors, range
 * errors, CIDRs, unknown roles and clients, rule names — so an admin fixes a policy in one
 * round: each field is parsed on its own, and every check between fields runs on the fields
 * that parsed. A policy with any error is rejected whole.
 */
export function validatePolicy(input: unknown, context: PolicyContext): PolicyValidation {
  if (!isRecord(input)) return { ok: false, errors: [{ field: '(policy)', message: 'must be a JSON object' }] };
  const errors: FieldError[] = [];
  const shape = policySchema.shape;
  unknownKeys(errors, '', input, POLICY_KEYS);
  const idle = take(errors, 'idleTimeoutSeconds', shape.idleTimeoutSeconds, input.idleTimeoutSeconds);
  const absolute = take(errors, 'absoluteTimeoutSeconds', shape.absoluteTimeoutSeconds, input.absoluteTimeoutSeconds);
  const warning = take(errors, 'warningSeconds', shape.warningSeconds, input.warningSeconds);
  take(errors, 'mfa', shape.mfa, input.mfa);
  take(errors, 'refreshIsActivity', shape.refreshIsActivity, input.refreshIsActivity);
  take(errors, 'allowEnrollmentAtReentry', shape.allowEnrollmentAtReentry, input.allowEnrollmentAtReentry);
  const ceilings = take(errors, 'ceilings', shape.ceilings, input.ceilings);
  let rules: Array<LooseRule | undefined> = [];
  if (input.rules !== undefined && !Array.isArray(input.rules)) errors.push({ field: 'rules', message: 'must be an array' });
  else rules = (input.rules ?? []).map((rule: unknown, i: number) => looseRule(errors, `rules.${i}`, rule));

  inRange(errors, 'idleTimeoutSeconds', idle);
  inRange(errors, 'absoluteTimeoutSeconds', absolute);
  inRange(errors, 'ceilings.idleTimeoutSeconds', ceilings?.idleTimeoutSeconds);
  inRange(errors, 'ceilings.absoluteTimeoutSeconds', ceilings?.absoluteTimeoutSeconds);
  if (idle !== undefined && absolute !== undefined && idle > absolute) {
    errors.push({ field: 'idleTimeoutSeconds', message: 'must not exceed absoluteTimeoutSeconds' });
  }
  if (warning !== undefined && idle !== undefined && warning >= idle) {
    errors.push({ field: 'warningSeconds', message: 'must be less than idleTimeoutSeconds' });
  }
  if (ceilings && ceilings.idleTimeoutSeconds > ceilings.absoluteTimeoutSeconds) {
    errors.push({ field: 'ceilings.idleTimeoutSeconds', message: 'must not exceed ceilings.absoluteTimeoutSeconds' });
  }
  if (ceilings && idle !== undefined && idle > ceilings.idleTimeoutSeconds) {
    errors.push({ field: 'idleTimeoutSeconds', message: 'must not exceed ceilings.idleTimeoutSeconds' });
  }
  if (ceilings && absolute !== undefined && absolute > ceilings.absoluteTimeoutSeconds) {
    errors.push({ field: 'absoluteTimeoutSeconds', message: 'must not exceed ceilings.absoluteTimeoutSeconds' });
  }
  ruleErrors(errors, rules, warning, context);

  if (errors.length) return { ok: false, errors };
  // Every field parsed on its own: the whole parses too, into the canonical shape with defaults.
  const whole = policySchema.safeParse(input);
  if (!whole.success) return { ok: false, errors: whole.error.issues.map((i) => ({ field: i.path.join('.') || '(policy)', message: i.message })) };
  return { ok: true, policy: whole.data };
}
