import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { hashPassword } from '../../accounts/passwords.ts';
import { newUser } from '../../accounts/users.ts';
import { ValidationError } from '../../errors.ts';
import { ConflictError } from '../../store/types.ts';
import { endConsoleSessions } from '../console/console-admin.ts';
import { userCreateSchema, userPatchSchema } from '../schemas.ts';
import type { AdminActor } from './actions.ts';
import { notFound, recordWrite, requireOrg, userOf, type OperationDeps } from './context.ts';
import { parse } from './parse.ts';
import { publicUser, type PublicUser } from './views.ts';

export async function createUser(deps: OperationDeps, by: AdminActor, input: unknown): Promise<PublicUser> {
  await requireOrg(deps, by);
  const fields = parse(userCreateSchema, input);
  const user = await newUser(by.org, fields);
  try {
    await deps.store.directory.putUser(user);
  } catch (err) {
    if (err instanceof ConflictError) throw new ValidationError([{ field: err.field, message: err.message }], 'conflict');
    throw err;
  }
  await recordWrite(deps, by, { action: 'user.create', target: user.id, after: publicUser(user) });
  return publicUser(user);
}

/**
 * Changes only what was sent (roles, password, disabled), applied to the record as stored in one
 * compare-and-set (DirectoryStore.updateUser), so an edit racing another admin's never undoes it.
 * Disabling ends every session of the user (SPEC §9, reason `user_disabled`); a user who loses
 * `admin` loses their console sessions.
 */
export async function updateUser(deps: OperationDeps, by: AdminActor, userRef: string, input: unknown): Promise<PublicUser> {
  await requireOrg(deps, by);
  const found = await userOf(deps, by, userRef);
  const patch = parse(userPatchSchema, input);
  const passwordHash = patch.password ? await hashPassword(patch.password) : undefined;
  // The record the change was last applied to: what this edit really changed, for the audit.
  let before = found;
  const now = await deps.store.directory.updateUser(found.id, (current) => {
    before = structuredClone(current);
    return {
      ...current,
      ...(patch.roles ? { roles: patch.roles } : {}),
      ...(passwordHash ? { passwordHash } : {}),
      ...(patch.disabled !== undefined ? { disabled: patch.disabled } : {}),
    };
  });
  if (!now) throw notFound('user');
  if (now.disabled && !before.disabled) await deps.disableUser(now.id);
  // An admin no more: their console sessions end now (issue 10 item 2).
  const endedConsoleSessions = before.roles.includes('admin') && !now.roles.includes('admin') ? await endConsoleSessions(deps.sessions, now) : 0;
  await recordWrite(deps, by, {
    action: 'user.update', target: before.id, before: publicUser(before),
    after: { ...publicUser(now), ...(patch.password ? { passwordChanged: true } : {}), ...(endedConsoleSessions ? { endedConsoleSessions } : {}) },
  });
  return publicUser(now);
}

/** The roles a user holds, replaced whole. */
export const setRoles = (deps: OperationDeps, by: AdminActor, userRef: string, roles: unknown) => updateUser(deps, by, userRef, { roles });

/** Disables (ending every session, reason `user_disabled`) or enables a user. */
export const setDisabled = (deps: OperationDeps, by: AdminActor, userRef: string, disabled: boolean) => updateUser(deps, by, userRef, { disabled });

const passwordSchema = z.object({ password: userPatchSchema.shape.password }).strict();

/**
 * Sets a user's password, or resets it to a generated one when none is sent. A generated
 * password is returned once, to be handed to the user; neither is ever audited or logged.
 */
export async function setPassword(deps: OperationDeps, by: AdminActor, userRef: string, input: unknown): Promise<{ user: string; password?: string }> {
  await requireOrg(deps, by);
  const user = await userOf(deps, by, userRef);
  const { password: chosen } = parse(passwordSchema, input);
  const generated = chosen === undefined ? randomBytes(15).toString('base64url') : undefined;
  const passwordHash = await hashPassword(chosen ?? generated ?? '');
  if (!(await deps.store.directory.updateUser(user.id, (current) => ({ ...current, passwordHash })))) throw notFound('user');
  await recordWrite(deps, by, { action: 'user.password.set', target: user.id, after: { generated: generated !== undefined } });
  return { user: user.id, ...(generated ? { password: generated } : {}) };
}

/** Deletes a user; every session of theirs ends first (SPEC §9, reason `user_disabled`). */
export async function deleteUser(deps: OperationDeps, by: AdminActor, userRef: string): Promise<{ deleted: PublicUser }> {
  await requireOrg(deps, by);
  const before = await userOf(deps, by, userRef);
  await deps.deleteUser(before.id);
  await recordWrite(deps, by, { action: 'user.delete', target: before.id, before: publicUser(before) });
  return { deleted: publicUser(before) };
}

/** Removes a user's authenticator and recovery codes: they enroll again at their next sign-in. */
export async function resetTotp(deps: OperationDeps, by: AdminActor, userRef: string): Promise<{ user: string; wasEnrolled: boolean }> {
  await requireOrg(deps, by);
  const user = await userOf(deps, by, userRef);
  const enrolled = await deps.mfa.isEnrolled(user.id);
  await deps.mfa.reset(user.id);
  await recordWrite(deps, by, { action: 'user.totp.reset', target: user.id, before: { enrolled }, after: { enrolled: false } });
  return { user: user.id, wasEnrolled: enrolled };
}
