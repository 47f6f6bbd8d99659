/** Limits a rule may set; every one tightens (or, for network rules, loosens idle within ceilings). */
export interface PolicyLimits {
  idleTimeoutSeconds?: number;
  absoluteTimeoutSeconds?: number;
}

export interface PolicyRule extends PolicyLimits {
  name: string;
  match: { roles?: string[]; clients?: string[]; networks?: string[] };
  /**
   * Client rules only: whether the matched clients' refresh grants are their user's activity
   * (SPEC §4), overriding the org's `refreshIsActivity` for those clients.
   */
  refreshIsActivity?: boolean;
}

export type MfaMode = 'reentry' | 'always' | 'off';

/** An org's session policy: the JSON shape of SPEC §4 (external contract). */
export interface Policy {
  idleTimeoutSeconds: number;
  absoluteTimeoutSeconds: number;
  warningSeconds: number;
  mfa: MfaMode;
  refreshIsActivity: boolean;
  allowEnrollmentAtReentry: boolean;
  rules: PolicyRule[];
  ceilings: { idleTimeoutSeconds: number; absoluteTimeoutSeconds: number };
}
