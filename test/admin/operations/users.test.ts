import { afterEach, describe, expect, it } from 'vitest';
import { consoleClientId } from '../../../src/admin/console/console-client.ts';
import { createUser, deleteUser, resetTotp, setDisabled, setPassword, setRoles, updateUser } from '../../../src/admin/operations/users.ts';
import { verifyPassword } from '../../../src/accounts/passwords.ts';
import { isCurfewError, ValidationError } from '../../../src/errors.ts';
import { newTotpSecret } from '../../../src/mfa/totp.ts';
import { client, operationsFixture, type OperationsFixture } from '../../support/operations.ts';

const fieldsOf = async (act: Promise<unknown>) => {
  const error = await act.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fields.map((f) => f.field).sort();
};

describe('user operations', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });

  it('creates a user with an argon2id hash of the password; neither the result nor the audit holds the password or its hash', async () => {
    t = await operationsFixture();
    const created = await createUser(t.deps, t.byAcme, { username: ' Dana ', password: 'dana password 1', roles: ['staff'] });
    expect(created).toMatchObject({ org: 'acme', username: 'dana', roles: ['staff'], disabled: false });
    expect(created).not.toHaveProperty('passwordHash');
    const stored = await t.store.directory.findUserByName('acme', 'dana');
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(stored!.passwordHash, 'dana password 1')).toBe(true);
    const text = JSON.stringify(await t.writes());
    expect(text).not.toContain('dana password 1');
    expect(text).not.toContain(stored!.passwordHash);
    expect(await t.writes()).toEqual([{ action: 'user.create', target: created.id, after: created }]);
  });

  it('refuses a username the org already has (400 naming username) and every bad field at once; nothing is written', async () => {
    t = await operationsFixture();
    expect(await fieldsOf(createUser(t.deps, t.byAcme, { username: 'BOB', password: 'another password' }))).toEqual(['username']);
    expect(await fieldsOf(createUser(t.deps, t.byAcme, { username: '', password: 'short', roles: ['Not A Role'] }))).toEqual(['password', 'roles.0', 'username']);
    // Another org may have its own bob.
    expect((await createUser(t.deps, t.byGlobex, { username: 'bob', password: 'globex bob pw' })).org).toBe('globex');
    expect(await t.writes()).toEqual([]);
    expect((await t.store.directory.listUsers('acme')).map((u) => u.username).sort()).toEqual(['alice', 'bob']);
  });

  it('changes only what is sent: roles replaced whole, the password hash only with a password', async () => {
    t = await operationsFixture();
    const after = await setRoles(t.deps, t.byAcme, 'bob', ['staff', 'finance']);
    expect(after.roles).toEqual(['staff', 'finance']);
    expect((await t.store.directory.getUser('u-bob'))?.passwordHash).toBe('not-a-hash');
    await updateUser(t.deps, t.byAcme, 'bob', { password: 'a new password' });
    const stored = await t.store.directory.getUser('u-bob');
    expect(stored?.roles).toEqual(['staff', 'finance']);
    expect(await verifyPassword(stored!.passwordHash, 'a new password')).toBe(true);
    const [pw, roles] = await t.writes();
    expect(roles).toMatchObject({ action: 'user.update', target: 'u-bob', before: { roles: ['staff'] }, after: { roles: ['staff', 'finance'] } });
    expect(pw).toMatchObject({ after: { passwordChanged: true } });
    expect(JSON.stringify(pw)).not.toContain('a new password');
    expect(await fieldsOf(updateUser(t.deps, t.byAcme, 'bob', { roles: 'admin', nickname: 'x' }))).toEqual(['(body)', 'roles']);
  });

  it('disabling ends every session of the user (reason user_disabled); enabling ends none', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    await t.signIn('uid-2', t.alice);
    expect((await setDisabled(t.deps, t.byAcme, 'bob', true)).disabled).toBe(true);
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect(await t.sessions.get('uid-2')).toBeDefined();
    expect((await t.audited('session.ended')).map((e) => e.data)).toEqual([expect.objectContaining({ reason: 'user_disabled' })]);
    expect((await setDisabled(t.deps, t.byAcme, 'bob', false)).disabled).toBe(false);
    expect((await t.store.directory.getUser('u-bob'))?.disabled).toBe(false);
    expect(await t.audited('session.ended')).toHaveLength(1);
  });

  it('a disable racing 49 other edits of the user (roles, passwords) stays: no edit re-enables the user', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        if (i === 25) return setDisabled(t.deps, t.byAcme, 'bob', true);
        return i % 2 ? setRoles(t.deps, t.byAcme, 'bob', ['staff', `team-${i}`]) : setPassword(t.deps, t.byAcme, 'bob', {});
      }),
    );
    const bob = await t.store.directory.getUser('u-bob');
    expect(bob?.disabled).toBe(true);
    expect(bob?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await t.sessions.get('uid-1')).toBeUndefined();
  });

  it('an admin demoted loses their console sessions only; their other apps keep theirs', async () => {
    t = await operationsFixture();
    await t.store.directory.putClient(client(consoleClientId('acme'), 'acme'));
    await t.signIn('uid-a', t.alice, [consoleClientId('acme'), 'acme-app']);
    await setRoles(t.deps, t.byAcme, 'alice', []);
    const session = await t.sessions.get('uid-a');
    expect(session).toBeDefined();
    const live = Object.values(session!.rps).filter((rp) => rp.endedAt === undefined).map((rp) => rp.client);
    expect(live).toEqual(['acme-app']);
    expect((await t.writes())[0]).toMatchObject({ action: 'user.update', after: { roles: [], endedConsoleSessions: 1 } });
  });

  it('sets a chosen password, or generates one that is returned once and never audited', async () => {
    t = await operationsFixture();
    expect(await setPassword(t.deps, t.byAcme, 'bob', { password: 'chosen password' })).toEqual({ user: 'u-bob' });
    expect(await verifyPassword((await t.store.directory.getUser('u-bob'))!.passwordHash, 'chosen password')).toBe(true);
    const reset = await setPassword(t.deps, t.byAcme, 'bob', {});
    expect(reset.password).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(await verifyPassword((await t.store.directory.getUser('u-bob'))!.passwordHash, reset.password!)).toBe(true);
    expect(await t.writes()).toEqual([
      { action: 'user.password.set', target: 'u-bob', after: { generated: true } },
      { action: 'user.password.set', target: 'u-bob', after: { generated: false } },
    ]);
    expect(await fieldsOf(setPassword(t.deps, t.byAcme, 'bob', { password: 'short' }))).toEqual(['password']);
  });

  it('deletes a user after ending their sessions; their TOTP goes with them', async () => {
    t = await operationsFixture();
    await t.mfa.enrollSecret(t.bob, newTotpSecret());
    await t.signIn('uid-1', t.bob);
    const { deleted } = await deleteUser(t.deps, t.byAcme, 'bob');
    expect(deleted).toMatchObject({ id: 'u-bob', username: 'bob' });
    expect(await t.store.directory.getUser('u-bob')).toBeUndefined();
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect(await t.mfa.isEnrolled('u-bob')).toBe(false);
    expect(await t.writes()).toEqual([{ action: 'user.delete', target: 'u-bob', before: deleted }]);
  });

  it('resets TOTP, saying whether the user had it', async () => {
    t = await operationsFixture();
    await t.mfa.enrollSecret(t.bob, newTotpSecret());
    expect(await resetTotp(t.deps, t.byAcme, 'bob')).toEqual({ user: 'u-bob', wasEnrolled: true });
    expect(await t.mfa.isEnrolled('u-bob')).toBe(false);
    expect(await resetTotp(t.deps, t.byAcme, 'bob')).toEqual({ user: 'u-bob', wasEnrolled: false });
    expect((await t.writes())[1]).toEqual({ action: 'user.totp.reset', target: 'u-bob', before: { enrolled: true }, after: { enrolled: false } });
  });

  it('reaches no user of another org, and acts for no org that is gone', async () => {
    t = await operationsFixture();
    const gone = { org: 'initech', actor: 'user:x' };
    for (const act of [
      () => updateUser(t.deps, t.byAcme, 'carol', { roles: [] }),
      () => setPassword(t.deps, t.byAcme, 'u-carol', {}),
      () => deleteUser(t.deps, t.byAcme, 'carol'),
      () => resetTotp(t.deps, t.byAcme, 'carol'),
      () => createUser(t.deps, gone, { username: 'x', password: 'long enough' }),
    ]) await expect(act()).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    expect(await t.store.directory.getUser('u-carol')).toMatchObject({ roles: ['admin'], passwordHash: 'not-a-hash' });
  });
});
