import type { AdminActor } from './actions.ts';
import { changePolicy, previewPolicy } from './policy.ts';
import { createClient, deleteClient, rotateClientSecret, updateClient } from './clients.ts';
import type { OperationDeps } from './context.ts';
import { retryDelivery } from './deliveries.ts';
import { revokeSession, revokeUserSessions } from './sessions.ts';
import { createUser, deleteUser, resetTotp, setDisabled, setPassword, setRoles, updateUser } from './users.ts';

export type { AdminAction, AdminActor, AdminWrite } from './actions.ts';
export { ADMIN_ACTIONS } from './actions.ts';
export type { OperationDeps } from './context.ts';
export { findUser } from './context.ts';
export { policyContext, type PreviewedSession } from './policy.ts';

/**
 * Every admin write, once (issue 12 item 1): each validates its input, re-checks the actor's
 * org at use, acts, records one `admin.write` audit event with a typed action, and returns a
 * typed result or throws a CurfewError. The JSON API and the console are adapters over these.
 */
export function adminOperations(deps: OperationDeps) {
  return {
    revokeSession: (by: AdminActor, session: string) => revokeSession(deps, by, session),
    revokeUserSessions: (by: AdminActor, user: string) => revokeUserSessions(deps, by, user),
    createUser: (by: AdminActor, input: unknown) => createUser(deps, by, input),
    updateUser: (by: AdminActor, user: string, input: unknown) => updateUser(deps, by, user, input),
    setRoles: (by: AdminActor, user: string, roles: unknown) => setRoles(deps, by, user, roles),
    setDisabled: (by: AdminActor, user: string, disabled: boolean) => setDisabled(deps, by, user, disabled),
    setPassword: (by: AdminActor, user: string, input: unknown) => setPassword(deps, by, user, input),
    deleteUser: (by: AdminActor, user: string) => deleteUser(deps, by, user),
    resetTotp: (by: AdminActor, user: string) => resetTotp(deps, by, user),
    createClient: (by: AdminActor, input: unknown, options?: { generateSecret?: boolean }) => createClient(deps, by, input, options),
    updateClient: (by: AdminActor, client: string, input: unknown) => updateClient(deps, by, client, input),
    rotateClientSecret: (by: AdminActor, client: string) => rotateClientSecret(deps, by, client),
    deleteClient: (by: AdminActor, client: string) => deleteClient(deps, by, client),
    changePolicy: (by: AdminActor, input: unknown) => changePolicy(deps, by, input),
    /** Not a write: a dry run of changePolicy, validated alike, that changes and audits nothing. */
    previewPolicy: (by: AdminActor, input: unknown) => previewPolicy(deps, by, input),
    retryDelivery: (by: AdminActor, delivery: string) => retryDelivery(deps, by, delivery),
  };
}

export type AdminOperations = ReturnType<typeof adminOperations>;
