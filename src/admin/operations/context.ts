import type { Audit } from '../../audit/audit.ts';
import { CurfewError, ValidationError } from '../../errors.ts';
import { checkBackchannelUri } from '../../logout/ssrf.ts';
import type { MfaService } from '../../mfa/service.ts';
import type { ClientSecrets } from '../../orgs/client-secret.ts';
import type { ClientRecord, User } from '../../orgs/types.ts';
import type { PolicyChange } from '../../sessions/change-policy.ts';
import type { Policy } from '../../sessions/policy-types.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { Store } from '../../store/types.ts';
import { isInternalClient } from '../../orgs/internal-clients.ts';
import type { AdminActor, AdminWrite } from './actions.ts';

/** What the operations act with: the store, the session service and the org-wide steps of app.ts. */
export interface OperationDeps {
  store: Store;
  sessions: SessionService;
  mfa: MfaService;
  audit: Audit;
  backchannelAllowlist: readonly string[];
  clientSecrets: ClientSecrets;
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  disableUser(userId: string): Promise<void>;
  deleteUser(userId: string): Promise<void>;
}

export const notFound = (what: string) => new CurfewError('not_found', `${what} not found`);

/** One audit record shape for every admin write, whichever surface it came through. */
export async function recordWrite(deps: Pick<OperationDeps, 'audit'>, by: AdminActor, write: AdminWrite): Promise<void> {
  await deps.audit({ type: 'admin.write', org: by.org, actor: by.actor, data: { ...write } });
}

/**
 * The org acted on still exists. Checked at use: an org removed by a seed reload since the
 * caller authenticated answers 404 like any other org it cannot see.
 */
export async function requireOrg(deps: Pick<OperationDeps, 'store'>, by: AdminActor): Promise<void> {
  if (!(await deps.store.directory.getOrg(by.org))) throw notFound('org');
}

/**
 * A user of the actor's org, named by id (`sub`) or username (SPEC §11). Another org's user
 * answers 404, as if it did not exist.
 */
export async function findUser(deps: Pick<OperationDeps, 'store'>, org: string, ref: string): Promise<User | undefined> {
  const byId = await deps.store.directory.getUser(ref);
  if (byId && byId.org === org) return byId;
  const byName = await deps.store.directory.findUserByName(org, ref.trim().toLowerCase());
  return byName && byName.org === org ? byName : undefined;
}

export async function userOf(deps: Pick<OperationDeps, 'store'>, by: AdminActor, ref: string): Promise<User> {
  const user = await findUser(deps, by.org, ref);
  if (!user) throw notFound('user');
  return user;
}

export async function clientOf(deps: Pick<OperationDeps, 'store'>, by: AdminActor, clientId: string): Promise<ClientRecord> {
  const client = await deps.store.directory.getClient(clientId);
  if (!client || client.org !== by.org) throw notFound('client');
  return client;
}

/** Curfew's own clients (the console's, the control test's) are not the admin's to change: see internal-clients.ts. */
export function editable(client: ClientRecord): ClientRecord {
  if (isInternalClient(client.client_id)) throw new CurfewError('conflict', `${client.client_id} is one of Curfew's own clients: Curfew manages it, and it cannot be changed or deleted`);
  return client;
}

/** SPEC §9: a back-channel logout URI must be https or allow-listed, never a private address unless allow-listed. */
export function checkBackchannel(deps: Pick<OperationDeps, 'backchannelAllowlist'>, uri: string | undefined): void {
  if (!uri) return;
  const check = checkBackchannelUri(uri, deps.backchannelAllowlist);
  if (!check.ok) throw new ValidationError([{ field: 'backchannel_logout_uri', message: check.reason }]);
}
