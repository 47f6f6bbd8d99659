import { ValidationError } from '../../errors.ts';
import type { Policy } from '../../sessions/policy-types.ts';
import { validatePolicy, type PolicyContext } from '../../sessions/policy-validate.ts';
import type { AdminActor } from './actions.ts';
import { recordWrite, requireOrg, type OperationDeps } from './context.ts';

/** What a policy of this org may name: its clients, and `admin` plus every role its users hold. */
export async function policyContext(deps: Pick<OperationDeps, 'store'>, org: string): Promise<PolicyContext> {
  const [clients, users] = await Promise.all([deps.store.directory.listClients(org), deps.store.directory.listUsers(org)]);
  return { clients: clients.map((c) => c.client_id), roles: [...new Set(['admin', ...users.flatMap((u) => u.roles)])] };
}

/**
 * Replaces the org's policy (SPEC §4): validated whole, every bad field named at once, nothing
 * changed on any error. Live sessions are recomputed at once; those past a new deadline end now.
 */
export async function changePolicy(deps: OperationDeps, by: AdminActor, input: unknown): Promise<{ policy: Policy; recomputedSessions: number; endedSessions: number }> {
  await requireOrg(deps, by);
  const result = validatePolicy(input, await policyContext(deps, by.org));
  if (!result.ok) throw new ValidationError(result.errors, 'the policy is invalid; nothing was changed');
  const change = await deps.changePolicy(by.org, result.policy, by.actor);
  const outcome = { recomputedSessions: change?.recomputed ?? 0, endedSessions: change?.ended ?? 0 };
  // `policy.changed` (recorded by the change itself) holds the before and after; this names the write.
  await recordWrite(deps, by, { action: 'policy.change', target: by.org, after: outcome });
  return { policy: result.policy, ...outcome };
}
