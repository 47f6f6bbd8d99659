import type { Audit } from '../audit/audit.ts';
import type { Policy } from './policy-types.ts';
import type { SessionService } from './service.ts';

export interface PolicyChange {
  org: string;
  before: Policy;
  after: Policy;
  recomputed: number;
  ended: number;
}

/**
 * Where an org's policy is kept (src/orgs/store.ts's DirectoryStore fits, with O its Org):
 * sessions cannot name the Org type, which is built on their Policy. The org is written back
 * whole, so nothing of it but its policy changes.
 */
export interface PolicyDirectory<O extends { policy: Policy }> {
  getOrg(id: string): Promise<O | undefined>;
  putOrg(org: O): Promise<void>;
}

/**
 * SPEC §4: a new policy applies to live sessions at once — every session of the org gets its
 * deadlines recomputed, and those already past a new deadline end now (reason `policy`).
 * The policy must already be valid (validatePolicy).
 */
export async function changePolicy<O extends { policy: Policy }>(
  deps: { directory: PolicyDirectory<O>; sessions: SessionService; audit: Audit },
  orgId: string,
  policy: Policy,
  actor: string,
): Promise<PolicyChange | undefined> {
  const org = await deps.directory.getOrg(orgId);
  if (!org) return undefined;
  const before = org.policy;
  await deps.directory.putOrg({ ...org, policy });
  await deps.audit({ type: 'policy.changed', org: orgId, actor, data: { before, after: policy } });
  const { recomputed, ended } = await deps.sessions.applyPolicy(orgId);
  return { org: orgId, before, after: policy, recomputed, ended };
}
