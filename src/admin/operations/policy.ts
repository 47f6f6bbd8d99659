import { ValidationError } from '../../errors.ts';
import type { Policy } from '../../sessions/policy-types.ts';
import { validatePolicy, type PolicyContext } from '../../sessions/policy-validate.ts';
import { previewPolicy as preview, type PolicyPreview } from '../../sessions/preview-policy.ts';
import type { AdminActor } from './actions.ts';
import { recordWrite, requireOrg, type OperationDeps } from './context.ts';

/** What a policy of this org may name: its clients, and `admin` plus every role its users hold. */
export async function policyContext(deps: Pick<OperationDeps, 'store'>, org: string): Promise<PolicyContext> {
  const [clients, users] = await Promise.all([deps.store.directory.listClients(org), deps.store.directory.listUsers(org)]);
  return { clients: clients.map((c) => c.client_id), roles: [...new Set(['admin', ...users.flatMap((u) => u.roles)])] };
}

/** A valid policy of this org, or the ValidationError naming every bad field: the same for a save and its preview. */
async function validated(deps: Pick<OperationDeps, 'store'>, by: AdminActor, input: unknown): Promise<Policy> {
  await requireOrg(deps, by);
  const result = validatePolicy(input, await policyContext(deps, by.org));
  if (!result.ok) throw new ValidationError(result.errors, 'the policy is invalid; nothing was changed');
  return result.policy;
}

/**
 * Replaces the org's policy (SPEC §4): validated whole, every bad field named at once, nothing
 * changed on any error. Live sessions are recomputed at once; those past a new deadline end now.
 */
export async function changePolicy(deps: OperationDeps, by: AdminActor, input: unknown): Promise<{ policy: Policy; recomputedSessions: number; endedSessions: number }> {
  const policy = await validated(deps, by, input);
  const change = await deps.changePolicy(by.org, policy, by.actor);
  const outcome = { recomputedSessions: change?.recomputed ?? 0, endedSessions: change?.ended ?? 0 };
  // `policy.changed` (recorded by the change itself) holds the before and after; this names the write.
  await recordWrite(deps, by, { action: 'policy.change', target: by.org, after: outcome });
  return { policy, ...outcome };
}

/** A live session in a preview, named as an admin reads it. */
export type PreviewedSession = PolicyPreview['affected'][number] & { username: string };

/**
 * What saving `input` would do to the org's live sessions now ("12 sessions get shorter, 3 end
 * now"), validated exactly as a save is. A dry run: it writes nothing, not even an audit record.
 * The sessions are read one by one, so a session that moves meanwhile may differ from the save.
 */
export async function previewPolicy(deps: Pick<OperationDeps, 'store' | 'sessions'>, by: AdminActor, input: unknown): Promise<{ policy: Policy; preview: Omit<PolicyPreview, 'affected'> & { affected: PreviewedSession[] } }> {
  const policy = await validated(deps, by, input);
  const [live, users] = await Promise.all([deps.sessions.list(by.org), deps.store.directory.listUsers(by.org)]);
  const byId = new Map(users.map((u) => [u.id, u]));
  // A session whose user is gone is skipped, as a save skips it.
  const subjects = live.flatMap((session) => {
    const user = byId.get(session.user);
    return user ? [{ session, roles: user.roles }] : [];
  });
  const result = preview(policy, subjects, await deps.store.now());
  return { policy, preview: { ...result, affected: result.affected.map((a) => ({ ...a, username: byId.get(a.user)!.username })) } };
}
