import { afterEach, describe, expect, it } from 'vitest';
import { changePolicy } from '../../src/sessions/change-policy.ts';
import { operationsFixture, policy, type OperationsFixture } from '../support/operations.ts';

describe('changing an org\'s policy (SPEC §4)', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });
  const deps = () => ({ directory: t.store.directory, sessions: t.sessions, audit: t.audit });

  it('answers undefined for an org that does not exist, and changes and audits nothing', async () => {
    t = await operationsFixture();
    expect(await changePolicy(deps(), 'initech', policy({ idleTimeoutSeconds: 60 }), 'user:u-alice')).toBeUndefined();
    expect(await t.store.directory.getOrg('initech')).toBeUndefined();
    expect(await t.audited('policy.changed')).toHaveLength(0);
  });

  it('stores the policy and audits its before and after, by whom', async () => {
    t = await operationsFixture();
    const after = policy({ idleTimeoutSeconds: 600, mfa: 'always' });
    const change = await changePolicy(deps(), 'acme', after, 'user:u-alice');
    expect(change).toEqual({ org: 'acme', before: t.acme.policy, after, recomputed: 0, ended: 0 });
    expect((await t.store.directory.getOrg('acme'))?.policy).toEqual(after);
    const [event] = await t.audited('policy.changed');
    expect(event).toMatchObject({ actor: 'user:u-alice', data: { before: t.acme.policy, after } });
    // Another org's policy is untouched.
    expect((await t.store.directory.getOrg('globex'))?.policy).toEqual(t.globex.policy);
  });

  it('applies at once: a session exactly at its new idle deadline ends (reason policy), one 1 ms short of it lives with the new deadline', async () => {
    t = await operationsFixture();
    const start = t.clock.now();
    await t.signIn('uid-old', t.alice, ['acme-app']);
    t.clock.set(start + 1);
    await t.signIn('uid-new', t.bob);
    await t.signIn('uid-globex', t.carol);
    t.clock.set(start + 600_000);

    const change = await changePolicy(deps(), 'acme', policy({ idleTimeoutSeconds: 600 }), 'user:u-alice');
    expect(change).toMatchObject({ recomputed: 2, ended: 1 });
    expect(await t.sessions.get('uid-old')).toBeUndefined();
    const [ended] = await t.audited('session.ended');
    expect(ended).toMatchObject({ user: 'u-alice', data: { reason: 'policy' } });
    // The survivor is judged by the new limit: dead 600 s after its sign-in, alive 1 ms before.
    expect((await t.sessions.get('uid-new'))?.idleSeconds).toBe(600);
    expect((await t.sessions.check('uid-new', undefined, 'passive')).sso).toBe('alive');
    t.clock.set(start + 1 + 600_000);
    expect((await t.sessions.check('uid-new', undefined, 'passive')).sso).toBe('dead');
    // Globex's session kept its own org's limits.
    expect((await t.sessions.get('uid-globex'))?.idleSeconds).toBe(t.globex.policy.idleTimeoutSeconds);
  });

  it('a longer limit lengthens live sessions; none ends', async () => {
    t = await operationsFixture();
    const start = t.clock.now();
    await t.signIn('uid-1', t.bob);
    const change = await changePolicy(deps(), 'acme', policy({ idleTimeoutSeconds: 3600 }), 'user:u-alice');
    expect(change).toMatchObject({ recomputed: 1, ended: 0 });
    t.clock.set(start + 3600_000 - 1);
    expect((await t.sessions.check('uid-1', undefined, 'passive')).sso).toBe('alive');
  });
});
