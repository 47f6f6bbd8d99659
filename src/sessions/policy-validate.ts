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
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value.trim());
  if (!match) return undefined;
  const [, address, bits] = match as unknown as [string, string, string];
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

function semanticErrors(policy: Policy, context: PolicyContext): FieldError[] {
  const errors: FieldError[] = [];
  inRange(errors, 'idleTimeoutSeconds', policy.idleTimeoutSeconds);
  inRange(errors, 'absoluteTimeoutSeconds', policy.absoluteTimeoutSeconds);
  inRange(errors, 'ceilings.idleTimeoutSeconds', policy.ceilings.idleTimeoutSeconds);
  inRange(errors, 'ceilings.absoluteTimeoutSeconds', policy.ceilings.absoluteTimeoutSeconds);
  if (policy.idleTimeoutSeconds > policy.absoluteTimeoutSeconds) {
    errors.push({ field: 'idleTimeoutSeconds', message: 'must not exceed absoluteTimeoutSeconds' });
  }
  if (policy.warningSeconds >= policy.idleTimeoutSeconds) {
    errors.push({ field: 'warningSeconds', message: 'must be less than idleTimeoutSeconds' });
  }
  if (policy.ceilings.idleTimeoutSeconds > policy.ceilings.absoluteTimeoutSeconds) {
    errors.push({ field: 'ceilings.idleTimeoutSeconds', message: 'must not exceed ceilings.absoluteTimeoutSeconds' });
  }
  if (policy.idleTimeoutSeconds > policy.ceilings.idleTimeoutSeconds) {
    errors.push({ field: 'idleTimeoutSeconds', message: 'must not exceed ceilings.idleTimeoutSeconds' });
  }
  if (policy.absoluteTimeoutSeconds > policy.ceilings.absoluteTimeoutSeconds) {
    errors.push({ field: 'absoluteTimeoutSeconds', message: 'must not exceed ceilings.absoluteTimeoutSeconds' });
  }

  const names = new Set<string>();
  // Two client rules may not disagree about one client's refreshes: no order would be obvious.
  const refreshSetters = new Map<string, { rule: string; value: boolean }>();
  policy.rules.forEach((rule, i) => {
    const at = `rules.${i}`;
    if (names.has(rule.name)) errors.push({ field: `${at}.name`, message: `duplicates another rule's name "${rule.name}"` });
    names.add(rule.name);
    const { roles = [], clients = [], networks = [] } = rule.match;
    if (!roles.length && !clients.length && !networks.length) {
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
    if (rule.idleTimeoutSeconds === undefined && rule.absoluteTimeoutSeconds === undefined && rule.refreshIsActivity === undefined) {
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
        } else if (!earlier) refreshSetters.set(client, { rule: rule.name, value: rule.refreshIsActivity });
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
    if (rule.idleTimeoutSeconds !== undefined && rule.idleTimeoutSeconds <= policy.warningSeconds) {
      errors.push({ field: `${at}.idleTimeoutSeconds`, message: 'must be greater than warningSeconds' });
    }
  });
  return errors;
}

/**
 * Validates a whole policy (SPEC §4). Returns every bad field at once, so an admin fixes a
 * policy in one round; a policy with any error is rejected whole.
 */
export function validatePolicy(input: unknown, context: PolicyContext): PolicyValidation {
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || '(policy)', message: issue.message })),
    };
  }
  const policy = parsed.data as Policy;
  const errors = semanticErrors(policy, context);
  return errors.length ? { ok: false, errors } : { ok: true, policy };
}
