/**
 * Every admin write, by one dotted name (SPEC §10 "admin writes"). The JSON API and the console
 * record the same name for the same operation, since both call the same function.
 */
export const ADMIN_ACTIONS = [
  'session.revoke',
  'user.sessions.revoke',
  'user.create',
  'user.update',
  'user.delete',
  'user.password.set',
  'user.totp.reset',
  'client.create',
  'client.update',
  'client.delete',
  'client.secret.rotate',
  'policy.change',
  'delivery.retry',
] as const;

export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** The `data` of every `admin.write` audit record: what was done to what, before and after. */
export interface AdminWrite {
  action: AdminAction;
  /** The id of what was acted on: a session, user, client, delivery or org. */
  target: string;
  before?: unknown;
  after?: unknown;
}

/** Who acts, for which org: fixed by the adapter's authentication (bearer token or console session). */
export interface AdminActor {
  org: string;
  /** As recorded in the audit: `client:<client_id>` or `user:<user id>`. */
  actor: string;
}
