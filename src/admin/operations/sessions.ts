import type { AdminActor } from './actions.ts';
import { notFound, recordWrite, requireOrg, userOf, type OperationDeps } from './context.ts';
import { sessionView, type SessionView } from './views.ts';

/** Ends one SSO session of the actor's org and all its RP sessions (reason `admin`); each RP is told (SPEC §9). */
export async function revokeSession(deps: OperationDeps, by: AdminActor, sessionId: string): Promise<{ revoked: SessionView }> {
  await requireOrg(deps, by);
  const session = await deps.sessions.get(sessionId);
  if (!session || session.org !== by.org) throw notFound('session');
  // Ended by someone else since it was read: nothing of ours to audit.
  if (!(await deps.sessions.end(session.id, 'admin'))) throw notFound('session');
  const revoked = sessionView(session);
  await recordWrite(deps, by, { action: 'session.revoke', target: session.id, before: revoked });
  return { revoked };
}

/** Ends every session of one user (by id or username), reason `admin`. */
export async function revokeUserSessions(deps: OperationDeps, by: AdminActor, userRef: string): Promise<{ user: string; ended: number }> {
  await requireOrg(deps, by);
  const user = await userOf(deps, by, userRef);
  const ended = await deps.sessions.endUserSessions(user.id, 'admin');
  await recordWrite(deps, by, { action: 'user.sessions.revoke', target: user.id, after: { ended } });
  return { user: user.id, ended };
}
