import { afterEach, describe, expect, it } from 'vitest';
import { checkBackchannel, clientOf, editable, findUser, notFound, recordWrite, requireOrg, userOf } from '../../../src/admin/operations/context.ts';
import { isCurfewError, ValidationError } from '../../../src/errors.ts';
import { client, operationsFixture, type OperationsFixture } from '../../support/operations.ts';

describe('what every admin operation checks first', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t?.close();
  });

  it('names what was not found in a 404', () => {
    const error = notFound('session');
    expect(error.status).toBe(404);
    expect(error.message).toBe('session not found');
  });

  it('requires the actor\'s org to exist at use', async () => {
    t = await operationsFixture();
    await expect(requireOrg(t.deps, t.byAcme)).resolves.toBeUndefined();
    await expect(requireOrg(t.deps, { org: 'initech', actor: 'user:x' })).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
  });

  it('finds a user of the org by id or by username (trimmed, any case); another org\'s user is not found', async () => {
    t = await operationsFixture();
    expect((await findUser(t.deps, 'acme', 'u-bob'))?.id).toBe('u-bob');
    expect((await findUser(t.deps, 'acme', '  BoB '))?.id).toBe('u-bob');
    expect(await findUser(t.deps, 'acme', 'u-carol')).toBeUndefined();
    expect(await findUser(t.deps, 'acme', 'carol')).toBeUndefined();
    expect(await findUser(t.deps, 'acme', 'nobody')).toBeUndefined();
    expect((await userOf(t.deps, t.byAcme, 'bob')).id).toBe('u-bob');
    await expect(userOf(t.deps, t.byAcme, 'carol')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found') && (e as Error).message === 'user not found');
  });

  it('finds a client of the org only', async () => {
    t = await operationsFixture();
    expect((await clientOf(t.deps, t.byAcme, 'acme-app')).org).toBe('acme');
    await expect(clientOf(t.deps, t.byAcme, 'globex-app')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    await expect(clientOf(t.deps, t.byAcme, 'nope')).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
  });

  it('lets no admin change Curfew\'s own clients (409)', () => {
    const app = client('acme-app', 'acme');
    expect(editable(app)).toBe(app);
    for (const id of ['curfew-console-acme', 'curfew-control-acme']) {
      expect(() => editable(client(id, 'acme'))).toThrow(expect.objectContaining({ code: 'conflict', status: 409 }));
    }
  });

  it('accepts a back-channel URI that is https and public, or allow-listed; refuses others naming the field', () => {
    const deps = { backchannelAllowlist: ['http://127.0.0.1:*'] };
    expect(() => checkBackchannel(deps, undefined)).not.toThrow();
    expect(() => checkBackchannel(deps, 'https://app.example/bcl')).not.toThrow();
    expect(() => checkBackchannel(deps, 'http://127.0.0.1:8090/bcl')).not.toThrow();
    for (const bad of ['http://app.example/bcl', 'https://10.0.0.5/bcl', 'https://localhost/bcl', 'https://u:p@app.example/bcl', 'not a url']) {
      let thrown: unknown;
      try {
        checkBackchannel(deps, bad);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, bad).toBeInstanceOf(ValidationError);
      expect((thrown as ValidationError).fields.map((f) => f.field), bad).toEqual(['backchannel_logout_uri']);
    }
  });

  it('records one admin.write per write, for the actor\'s org, with the actor', async () => {
    t = await operationsFixture();
    await recordWrite(t.deps, t.byAcme, { action: 'user.update', target: 'u-bob', before: { roles: [] }, after: { roles: ['staff'] } });
    const [event] = await t.audited('admin.write');
    expect(event).toMatchObject({ org: 'acme', actor: 'user:u-alice', data: { action: 'user.update', target: 'u-bob', before: { roles: [] }, after: { roles: ['staff'] } } });
    expect(await t.audited('admin.write', 'globex')).toEqual([]);
  });
});
