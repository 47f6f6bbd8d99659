import { afterEach, describe, expect, it } from 'vitest';
import { createClient, deleteClient, generateClientSecret, rotateClientSecret, updateClient } from '../../../src/admin/operations/clients.ts';
import { isCurfewError, ValidationError } from '../../../src/errors.ts';
import { client, operationsFixture, type OperationsFixture } from '../../support/operations.ts';

const fieldsOf = async (act: Promise<unknown>) => {
  const error = await act.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ValidationError);
  return (error as ValidationError).fields.map((f) => f.field).sort();
};
const NEW = { client_id: 'acme-wiki', redirect_uris: ['https://wiki.example/cb'], backchannel_logout_uri: 'https://wiki.example/bcl' };

describe('client operations', () => {
  let t: OperationsFixture;
  afterEach(async () => {
    await t?.close();
  });

  it('generates 256-bit secrets', () => {
    const secrets = new Set(Array.from({ length: 20 }, generateClientSecret));
    expect(secrets.size).toBe(20);
    for (const s of secrets) expect(Buffer.from(s, 'base64url')).toHaveLength(32);
  });

  it('registers a public client with its defaults; a generated secret makes it confidential, returned once, stored as a hash only', async () => {
    t = await operationsFixture();
    const pub = await createClient(t.deps, t.byAcme, NEW);
    expect(pub.client_secret).toBeUndefined();
    expect(pub.client).toMatchObject({ client_id: 'acme-wiki', org: 'acme', hasSecret: false, internal: false, token_endpoint_auth_method: 'none', firstParty: true });

    const conf = await createClient(t.deps, t.byAcme, { ...NEW, client_id: 'acme-crm' }, { generateSecret: true });
    const secret = conf.client_secret!;
    expect(conf.client).toMatchObject({ hasSecret: true, token_endpoint_auth_method: 'client_secret_basic' });
    const stored = await t.store.directory.getClient('acme-crm');
    expect(stored?.client_secret_hash).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(t.deps.clientSecrets.matches(stored?.client_secret_hash, secret)).toBe(true);
    expect(JSON.stringify(await t.writes())).not.toContain(secret);
    expect((await t.writes()).map((w) => [w?.action, w?.target])).toEqual([['client.create', 'acme-crm'], ['client.create', 'acme-wiki']]);
  });

  it('a secret sent is kept over generating one', async () => {
    t = await operationsFixture();
    const made = await createClient(t.deps, t.byAcme, { ...NEW, client_secret: 'a chosen secret 1234' }, { generateSecret: true });
    expect(made.client_secret).toBeUndefined();
    expect(t.deps.clientSecrets.matches((await t.store.directory.getClient('acme-wiki'))?.client_secret_hash, 'a chosen secret 1234')).toBe(true);
  });

  it('refuses bad input naming each field, Curfew\'s reserved prefixes, and an unsafe back-channel URI', async () => {
    t = await operationsFixture();
    expect(await fieldsOf(createClient(t.deps, t.byAcme, { client_id: 'bad id', redirect_uris: [], extra: true }))).toEqual(['(body)', 'client_id', 'redirect_uris']);
    expect(await fieldsOf(createClient(t.deps, t.byAcme, { ...NEW, client_id: 'curfew-console-evil' }))).toEqual(['client_id']);
    expect(await fieldsOf(createClient(t.deps, t.byAcme, { ...NEW, backchannel_logout_uri: 'https://192.168.1.1/bcl' }))).toEqual(['backchannel_logout_uri']);
    expect(await t.store.directory.getClient('acme-wiki')).toBeUndefined();
    expect(await t.writes()).toEqual([]);
  });

  it('answers the same 409 for an id taken in this org, another org, or by a deleted client', async () => {
    t = await operationsFixture();
    await createClient(t.deps, t.byAcme, NEW);
    await deleteClient(t.deps, t.byAcme, 'acme-wiki');
    const messages: string[] = [];
    for (const id of ['acme-app', 'globex-app', 'acme-wiki']) {
      const error = await createClient(t.deps, t.byAcme, { ...NEW, client_id: id }).then(() => undefined, (e: unknown) => e);
      expect(isCurfewError(error, 'conflict'), id).toBe(true);
      messages.push((error as Error).message);
    }
    expect(new Set(messages).size).toBe(1);
  });

  it('of 50 concurrent creates of one id exactly one succeeds', async () => {
    t = await operationsFixture();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => createClient(t.deps, t.byAcme, NEW)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isCurfewError(r.reason, 'conflict')).toBe(true);
    expect(await t.writes()).toHaveLength(1);
  });

  it('updates only the fields sent, keeping the secret; before and after are audited', async () => {
    t = await operationsFixture();
    await createClient(t.deps, t.byAcme, { ...NEW, client_secret: 'a chosen secret 1234', firstParty: false });
    const after = await updateClient(t.deps, t.byAcme, 'acme-wiki', { redirect_uris: ['https://wiki.example/cb2'] });
    expect(after).toMatchObject({ redirect_uris: ['https://wiki.example/cb2'], firstParty: false, backchannel_logout_uri: NEW.backchannel_logout_uri, hasSecret: true });
    expect(t.deps.clientSecrets.matches((await t.store.directory.getClient('acme-wiki'))?.client_secret_hash, 'a chosen secret 1234')).toBe(true);
    expect((await t.writes())[0]).toMatchObject({ action: 'client.update', before: { redirect_uris: NEW.redirect_uris }, after: { redirect_uris: ['https://wiki.example/cb2'] } });
    expect(await fieldsOf(updateClient(t.deps, t.byAcme, 'acme-wiki', { backchannel_logout_uri: 'http://wiki.example/bcl' }))).toEqual(['backchannel_logout_uri']);
  });

  it('a secret rotation racing 49 changes of the client keeps its new secret: no change restores the old one', async () => {
    t = await operationsFixture();
    await createClient(t.deps, t.byAcme, { ...NEW, client_secret: 'the old secret 1234' });
    let secret = '';
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        if (i === 25) secret = (await rotateClientSecret(t.deps, t.byAcme, 'acme-wiki')).client_secret;
        else await updateClient(t.deps, t.byAcme, 'acme-wiki', { redirect_uris: [`https://wiki.example/cb/${i}`] });
      }),
    );
    const hash = (await t.store.directory.getClient('acme-wiki'))?.client_secret_hash;
    expect(t.deps.clientSecrets.matches(hash, secret)).toBe(true);
    expect(t.deps.clientSecrets.matches(hash, 'the old secret 1234')).toBe(false);
  });

  it('a change racing the client\'s deletion never brings it back', async () => {
    t = await operationsFixture();
    await createClient(t.deps, t.byAcme, NEW);
    const results = await Promise.allSettled([
      deleteClient(t.deps, t.byAcme, 'acme-wiki'),
      ...Array.from({ length: 30 }, (_, i) => updateClient(t.deps, t.byAcme, 'acme-wiki', { redirect_uris: [`https://wiki.example/cb/${i}`] })),
    ]);
    expect(results[0]?.status).toBe('fulfilled');
    for (const r of results.slice(1)) if (r.status === 'rejected') expect(isCurfewError(r.reason) && r.reason.code).toBe('not_found');
    expect(await t.store.directory.getClient('acme-wiki')).toBeUndefined();
    expect(await t.store.directory.getClientTombstone('acme-wiki')).toBeDefined();
  });

  it('rotates a secret: the new one matches at once, the old one no more; a public client becomes confidential', async () => {
    t = await operationsFixture();
    await createClient(t.deps, t.byAcme, { ...NEW, client_secret: 'the old secret 1234' });
    const { client_secret: secret, client: after } = await rotateClientSecret(t.deps, t.byAcme, 'acme-wiki');
    const hash = (await t.store.directory.getClient('acme-wiki'))?.client_secret_hash;
    expect(t.deps.clientSecrets.matches(hash, secret)).toBe(true);
    expect(t.deps.clientSecrets.matches(hash, 'the old secret 1234')).toBe(false);
    expect(after.hasSecret).toBe(true);
    const rotatedPublic = await rotateClientSecret(t.deps, t.byAcme, 'acme-app');
    expect(rotatedPublic.client).toMatchObject({ hasSecret: true, token_endpoint_auth_method: 'client_secret_basic' });
    expect((await t.writes()).slice(0, 2)).toEqual([
      { action: 'client.secret.rotate', target: 'acme-app', before: { hasSecret: false }, after: { hasSecret: true } },
      { action: 'client.secret.rotate', target: 'acme-wiki', before: { hasSecret: true }, after: { hasSecret: true } },
    ]);
    expect(JSON.stringify(await t.writes())).not.toContain(secret);
  });

  it('deletes a client: its RP sessions end (client_deleted), the SSO session lives, and the write counts them', async () => {
    t = await operationsFixture();
    await t.signIn('uid-1', t.bob, ['acme-app']);
    await t.signIn('uid-2', t.alice, ['acme-app']);
    const result = await deleteClient(t.deps, t.byAcme, 'acme-app');
    expect(result).toMatchObject({ deleted: { client_id: 'acme-app' }, endedRpSessions: 2 });
    expect(await t.store.directory.getClient('acme-app')).toBeUndefined();
    expect(await t.sessions.get('uid-1')).toBeDefined();
    expect((await t.audited('session.ended')).map((e) => e.data)).toEqual([expect.objectContaining({ reason: 'client_deleted', scope: 'rp' }), expect.objectContaining({ reason: 'client_deleted', scope: 'rp' })]);
    expect((await t.writes())[0]).toMatchObject({ action: 'client.delete', target: 'acme-app', after: { endedRpSessions: 2 } });
  });

  it('leaves Curfew\'s own clients and other orgs\' clients alone, and changes nothing of a deleted client', async () => {
    t = await operationsFixture();
    await t.store.directory.putClient(client('curfew-console-acme', 'acme'));
    for (const act of [() => updateClient(t.deps, t.byAcme, 'curfew-console-acme', { firstParty: false }), () => rotateClientSecret(t.deps, t.byAcme, 'curfew-console-acme'), () => deleteClient(t.deps, t.byAcme, 'curfew-console-acme')]) {
      await expect(act()).rejects.toSatisfy((e) => isCurfewError(e, 'conflict'));
    }
    for (const act of [() => updateClient(t.deps, t.byAcme, 'globex-app', { firstParty: false }), () => rotateClientSecret(t.deps, t.byAcme, 'globex-app'), () => deleteClient(t.deps, t.byAcme, 'globex-app')]) {
      await expect(act()).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    }
    expect(await t.store.directory.getClient('globex-app')).toBeDefined();
    await deleteClient(t.deps, t.byAcme, 'acme-app');
    await expect(updateClient(t.deps, t.byAcme, 'acme-app', { firstParty: false })).rejects.toSatisfy((e) => isCurfewError(e, 'not_found'));
    expect(await t.store.directory.getClient('acme-app')).toBeUndefined();
  });
});
