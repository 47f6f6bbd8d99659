import { afterEach, describe, expect, it } from 'vitest';
import { revokeSession, revokeUserSessions } from '../../../src/admin/operations/sessions.ts';
import { isCurfewError } from '../../../src/errors.ts';
import { operationsFixture, type OperationsFixture } from '../../support/operations.ts';

describe('revoking sessions (admin operations)', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });

  it('ends one session of the org with its RP sessions (reason admin) and records the write with what was revoked', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    const { revoked } = await revokeSession(t.deps, t.byAcme, 'uid-1');
    expect(revoked).toMatchObject({ id: 'uid-1', user: 'u-bob', rpSessions: [{ client: 'acme-app', sid: 'sid-uid-1-acme-app' }] });
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect((await t.audited('session.ended')).map((e) => e.data)).toEqual([expect.objectContaining({ reason: 'admin', scope: 'sso' })]);
    expect(await t.writes()).toEqual([{ action: 'session.revoke', target: 'uid-1', before: revoked }]);
    const [write] = await t.audited('admin.write');
    expect(write?.actor).toBe('user:u-alice');
  });

  it('answers 404 for another org\'s session, an unknown one, or one already ended — and ends and audits nothing', async () => {
    t = await operationsFixture();
    await t.signIn('uid-globex', t.carol);
    await t.signIn('uid-1', t.bob);
    for (const id of ['uid-globex', 'uid-nope']) {
      await expect(revokeSession(t.deps, t.byAcme, id)).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    }
    expect(await t.sessions.get('uid-globex')).toBeDefined();
    await t.sessions.end('uid-1', 'logout');
    await expect(revokeSession(t.deps, t.byAcme, 'uid-1')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    expect(await t.writes()).toEqual([]);
  });

  it('of 50 concurrent revokes of one session exactly one succeeds and is audited; the rest answer 404', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => revokeSession(t.deps, t.byAcme, 'uid-1')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isCurfewError(r.reason, 'not_found')).toBe(true);
    expect(await t.writes()).toHaveLength(1);
    expect(await t.audited('session.ended')).toHaveLength(1);
  });

  it('refuses every act for an org removed since the actor authenticated', async () => {
    t = await operationsFixture();
    await expect(revokeSession(t.deps, { org: 'initech', actor: 'user:x' }, 'uid-1')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    await expect(revokeUserSessions(t.deps, { org: 'initech', actor: 'user:x' }, 'bob')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
  });

  it('ends every session of one user, named by id or by username in any case, and counts them', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob);
    await t.signIn('uid-2', t.bob);
    await t.signIn('uid-3', t.alice);
    expect(await revokeUserSessions(t.deps, t.byAcme, ' BOB ')).toEqual({ user: 'u-bob', ended: 2 });
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect(await t.sessions.get('uid-2')).toBeUndefined();
    expect(await t.sessions.get('uid-3')).toBeDefined();
    expect(await revokeUserSessions(t.deps, t.byAcme, 'u-bob')).toEqual({ user: 'u-bob', ended: 0 });
    expect(await t.writes()).toEqual([
      { action: 'user.sessions.revoke', target: 'u-bob', after: { ended: 0 } },
      { action: 'user.sessions.revoke', target: 'u-bob', after: { ended: 2 } },
    ]);
  });

  it('does not reach another org\'s user, by id or by username', async () => {
    t = await operationsFixture();
    await t.signIn('uid-c', t.carol);
    for (const ref of ['u-carol', 'carol']) {
      await expect(revokeUserSessions(t.deps, t.byAcme, ref)).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    }
    expect(await t.sessions.get('uid-c')).toBeDefined();
  });
});
