import { BlockList, isIP } from 'node:net';
import type { Policy, PolicyRule } from './policy-types.ts';
import { parseCidr } from './policy-validate.ts';

/** Which part of the policy decided a limit: the org default, a named rule, or a ceiling. */
export type Decider = { kind: 'default' } | { kind: 'rule'; rule: string } | { kind: 'ceiling' };

export interface Limit {
  seconds: number;
  decidedBy: Decider;
}

export interface SessionLimits {
  idle: Limit;
  absolute: Limit;
}

/** Whether a client's refresh grants are its user's activity (SPEC §5), and who said so. */
export interface RefreshActivity {
  value: boolean;
  decidedBy: Decider;
}

export interface RpLimits extends SessionLimits {
  refreshIsActivity: RefreshActivity;
}

/** The limits of an SSO session and, when a client is named, of its RP session. */
export interface EffectiveLimits {
  sso: SessionLimits;
  rp?: RpLimits;
}

export interface Subject {
  roles: readonly string[];
  /** The client whose RP session is asked about, if any. */
  client?: string;
  /** Source IP of the sign-in (network rules). */
  ip?: string;
}

function networkMatches(rule: PolicyRule, ip: string | undefined): boolean {
  if (!ip || !rule.match.networks?.length) return false;
  const family = isIP(ip);
  if (!family) return false;
  const list = new BlockList();
  for (const cidr of rule.match.networks) {
    const parsed = parseCidr(cidr);
    if (parsed) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  // An IPv4-mapped IPv6 address (::ffff:10.20.1.1, as dual-stack sockets report) is its IPv4 self.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  return mapped ? list.check(mapped, 'ipv4') : list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

const roleMatches = (rule: PolicyRule, roles: readonly string[]) =>
  Boolean(rule.match.roles?.some((role) => roles.includes(role)));

const clientMatches = (rule: PolicyRule, client: string | undefined) =>
  Boolean(client && rule.match.clients?.includes(client));

/** What a rule matched a subject on: a role the user holds, the client, or the source IP's network. */
export type RuleMatch = { kind: 'role'; role: string } | { kind: 'client'; client: string } | { kind: 'network'; ip: string };

/** The rules that match a subject, in policy order, with what each matched on (explain's "which rules matched"). */
export function matchingRules(policy: Policy, subject: Subject): Array<{ rule: PolicyRule; on: RuleMatch[] }> {
  return policy.rules.flatMap((rule) => {
    const on: RuleMatch[] = [
      ...(rule.match.roles ?? []).filter((role) => subject.roles.includes(role)).map((role) => ({ kind: 'role', role }) as const),
      ...(clientMatches(rule, subject.client) ? [{ kind: 'client', client: subject.client! } as const] : []),
      ...(networkMatches(rule, subject.ip) ? [{ kind: 'network', ip: subject.ip! } as const] : []),
    ];
    return on.length ? [{ rule, on }] : [];
  });
}

/** Strictest wins: a rule's value replaces the current one only if it is lower. */
function tighten(current: Limit, rule: PolicyRule, value: number | undefined): Limit {
  return value !== undefined && value < current.seconds ? { seconds: value, decidedBy: { kind: 'rule', rule: rule.name } } : current;
}

/**
 * The limits that apply to a user's session (SPEC §4), and the rule that decided each one.
 * Pure: the same policy and subject always give the same answer.
 *
 * - SSO: the org defaults; matching network rules may loosen idle (the loosest matching one
 *   wins), never past the ceiling; then every matching role rule tightens (strictest wins), so a
 *   role's requirement holds on every network.
 * - RP: the SSO limits, tightened by the client's rules. An RP session never outlives its SSO
 *   session, so nothing here can loosen it.
 */
export function effectiveLimits(policy: Policy, subject: Subject): EffectiveLimits {
  let idle: Limit = { seconds: policy.idleTimeoutSeconds, decidedBy: { kind: 'default' } };
  let absolute: Limit = { seconds: policy.absoluteTimeoutSeconds, decidedBy: { kind: 'default' } };

  for (const rule of policy.rules) {
    if (!networkMatches(rule, subject.ip) || rule.idleTimeoutSeconds === undefined) continue;
    if (rule.idleTimeoutSeconds <= idle.seconds) continue;
    idle = rule.idleTimeoutSeconds > policy.ceilings.idleTimeoutSeconds
      ? { seconds: policy.ceilings.idleTimeoutSeconds, decidedBy: { kind: 'ceiling' } }
      : { seconds: rule.idleTimeoutSeconds, decidedBy: { kind: 'rule', rule: rule.name } };
  }
  for (const rule of policy.rules) {
    if (!roleMatches(rule, subject.roles)) continue;
    idle = tighten(idle, rule, rule.idleTimeoutSeconds);
    absolute = tighten(absolute, rule, rule.absoluteTimeoutSeconds);
  }
  // Idle can never exceed absolute: a session that is idle-limited past its absolute end is absolute-limited.
  const sso: SessionLimits = { idle, absolute };
  if (subject.client === undefined) return { sso };

  let rpIdle = idle;
  let rpAbsolute = absolute;
  let refresh: RefreshActivity = { value: policy.refreshIsActivity, decidedBy: { kind: 'default' } };
  for (const rule of policy.rules) {
    if (!clientMatches(rule, subject.client)) continue;
    rpIdle = tighten(rpIdle, rule, rule.idleTimeoutSeconds);
    rpAbsolute = tighten(rpAbsolute, rule, rule.absoluteTimeoutSeconds);
    // Validation keeps matching rules from disagreeing; the first that speaks decides.
    if (rule.refreshIsActivity !== undefined && refresh.decidedBy.kind === 'default') {
      refresh = { value: rule.refreshIsActivity, decidedBy: { kind: 'rule', rule: rule.name } };
    }
  }
  return { sso, rp: { idle: rpIdle, absolute: rpAbsolute, refreshIsActivity: refresh } };
}

export interface Explanation {
  sso: { idleTimeoutSeconds: number; absoluteTimeoutSeconds: number; decidedBy: { idle: string; absolute: string } };
  rp?: {
    idleTimeoutSeconds: number;
    absoluteTimeoutSeconds: number;
    refreshIsActivity: boolean;
    decidedBy: { idle: string; absolute: string; refreshIsActivity: string };
  };
}

/** `rule:<name>`, `default` or `ceiling`: how explain and the audit name a decider. */
export const label = (d: Decider) => (d.kind === 'rule' ? `rule:${d.rule}` : d.kind);

function explainLimits(limits: SessionLimits) {
  return {
    idleTimeoutSeconds: limits.idle.seconds,
    absoluteTimeoutSeconds: limits.absolute.seconds,
    decidedBy: { idle: label(limits.idle.decidedBy), absolute: label(limits.absolute.decidedBy) },
  };
}

/** `explain(user, client, ip)` of SPEC §4, in the admin API's JSON shape. */
export function explain(policy: Policy, subject: Subject): Explanation {
  const limits = effectiveLimits(policy, subject);
  if (!limits.rp) return { sso: explainLimits(limits.sso) };
  const rp = explainLimits(limits.rp);
  return {
    sso: explainLimits(limits.sso),
    rp: {
      idleTimeoutSeconds: rp.idleTimeoutSeconds,
      absoluteTimeoutSeconds: rp.absoluteTimeoutSeconds,
      refreshIsActivity: limits.rp.refreshIsActivity.value,
      decidedBy: { ...rp.decidedBy, refreshIsActivity: label(limits.rp.refreshIsActivity.decidedBy) },
    },
  };
}
