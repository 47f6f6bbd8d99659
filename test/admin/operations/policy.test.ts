import { afterEach, describe, expect, it } from 'vitest';
import { changePolicy, policyContext, previewPolicy } from '../../../src/admin/operations/policy.ts';
import { ValidationError } from '../../../src/errors.ts';
import { operationsFixture, policy, type OperationsFixture } from '../../support/operations.ts';

const fieldsOf = async (act: Promise<unknown>) => {
  const error = await act.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fields.map((f) => f.field).sort();
};

describe('policy operations (SPEC §4)', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t.close();
  });

  it('names as policy context the org\'s clients and admin plus every role its users hold, nothing of another org', async () => {
    t = await operationsFixture();
    const context = await policyContext(t.deps, 'acme');
    expect(context.clients).toEqual(['acme-app']);
    expect([...context.roles].sort()).toEqual(['admin', 'staff']);
  });

  it('changes the policy: sessions past the new deadline end now, and one admin.write names the outcome', async () => {
    t = await operationsFixture();
    const start = t.clock.now();
    await t.signIn('uid-1', t.bob);
    t.clock.set(start + 300_000);
    await t.signIn('uid-2', t.alice);
    const input = { idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600, warningSeconds: 60 };
    const result = await changePolicy(t.deps, t.byAcme, input);
    expect(result).toMatchObject({ policy: input, recomputedSessions: 2, endedSessions: 1 });
    expect((await t.store.directory.getOrg('acme'))?.policy).toEqual(result.policy);
    expect(await t.writes()).toEqual([{ action: 'policy.change', target: 'acme', after: { recomputedSessions: 2, endedSessions: 1 } }]);
    expect((await t.audited('policy.changed'))[0]?.actor).toBe('user:u-alice');
  });

  it('refuses an invalid policy naming every bad field, and changes nothing', async () => {
    t = await operationsFixture();
    const bad = { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 'long', rules: [{ name: 'x', match: { clients: ['globex-app'], roles: ['ghost'] }, idleTimeoutSeconds: 60 }] };
    const fields = await fieldsOf(changePolicy(t.deps, t.byAcme, bad));
    expect(fields).toEqual(expect.arrayContaining(['idleTimeoutSeconds', 'absoluteTimeoutSeconds']));
    expect(fields.some((f) => f.startsWith('rules.0.match.clients'))).toBe(true);
    expect(fields.some((f) => f.startsWith('rules.0.match.roles'))).toBe(true);
    expect((await t.store.directory.getOrg('acme'))?.policy).toEqual(t.acme.policy);
    expect(await t.writes()).toEqual([]);
    expect(await t.audited('policy.changed')).toEqual([]);
  });

  it('previews a change without writing anything: what would end, get shorter, and whose sessions they are', async () => {
    t = await operationsFixture();
    const start = t.clock.now();
    await t.signIn('uid-1', t.bob);
    t.clock.set(start + 300_000);
    await t.signIn('uid-2', t.alice);
    const { policy: previewed, preview } = await previewPolicy(t.deps, t.byAcme, { idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600, warningSeconds: 60 });
    expect(previewed.idleTimeoutSeconds).toBe(300);
    expect(preview).toMatchObject({ now: t.clock.now(), sessions: 2, endNow: 1, shorter: 1, endedSessions: 1 });
    expect(preview.affected.map((a) => [a.username, a.outcome])).toEqual([['bob', 'ends'], ['alice', 'shorter']]);
    // A dry run: the policy, the sessions and the audit are as they were.
    expect((await t.store.directory.getOrg('acme'))?.policy).toEqual(t.acme.policy);
    expect(await t.sessions.get('uid-1')).toBeDefined();
    expect((await t.store.audit.query({ org: 'acme', limit: 100 })).items.filter((e) => e.type !== 'session.started')).toEqual([]);
  });

  it('validates a preview exactly as a save, and skips sessions whose user is gone', async () => {
    t = await operationsFixture();
    expect(await fieldsOf(previewPolicy(t.deps, t.byAcme, { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 3600 }))).toEqual(await fieldsOf(changePolicy(t.deps, t.byAcme, { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 3600 })));
    await t.signIn('uid-1', t.bob);
    await t.store.directory.deleteUser('u-bob');
    const { preview } = await previewPolicy(t.deps, t.byAcme, policy({ idleTimeoutSeconds: 60, warningSeconds: 30 }));
    expect(preview.sessions).toBe(0);
  });
});
