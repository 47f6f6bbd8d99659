import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { createLogger } from '../../src/logger.ts';
import { verifyPassword } from '../../src/accounts/passwords.ts';
import { applySeed, parseSeed, SeedError } from '../../src/provisioning/seed.ts';
import { createClientSecrets } from '../../src/orgs/client-secret.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

const secrets = createClientSecrets('seed-test-key-'.padEnd(40, 'x'));
const silent = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));

const seed = {
  orgs: [
    {
      id: 'acme',
      name: 'Acme',
      policy: { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 43200, rules: [{ name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 }] },
      users: [{ username: 'Alice', password: 'alice password', roles: ['admin'] }],
      clients: [{ client_id: 'wiki', client_secret: 'wiki-secret-0123456789', redirect_uris: ['https://wiki.example/cb'] }],
    },
  ],
};

describe('seed', () => {
  it('creates orgs, users (argon2id, lowercase username) and clients', async () => {
    const store = createMemoryStore();
    await applySeed(parseSeed(seed), store.directory, createAudit(store.audit, silent), secrets);
    const org = await store.directory.getOrg('acme');
    expect(org?.policy.rules[0]?.name).toBe('admins');
    const alice = await store.directory.findUserByName('acme', 'alice');
    expect(alice?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await verifyPassword(alice!.passwordHash, 'alice password')).toBe(true);
    const wiki = await store.directory.getClient('wiki');
    expect(wiki).toMatchObject({ org: 'acme', firstParty: true, token_endpoint_auth_method: 'client_secret_basic', backchannel_logout_session_required: true });
    // The secret is stored only as its keyed hash.
    expect(JSON.stringify(wiki)).not.toContain('wiki-secret-0123456789');
    expect(secrets.matches(wiki?.client_secret_hash, 'wiki-secret-0123456789')).toBe(true);
  });

  it('is idempotent: a second application changes nothing', async () => {
    const store = createMemoryStore();
    const audit = createAudit(store.audit, silent);
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    const before = { user: await store.directory.findUserByName('acme', 'alice'), client: await store.directory.getClient('wiki') };
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    expect(await store.directory.findUserByName('acme', 'alice')).toEqual(before.user);
    expect(await store.directory.getClient('wiki')).toEqual(before.client);
    expect(await store.directory.listUsers('acme')).toHaveLength(1);
  });

  it('updates what it names: a new password is re-hashed, roles replaced', async () => {
    const store = createMemoryStore();
    const audit = createAudit(store.audit, silent);
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    const id = (await store.directory.findUserByName('acme', 'alice'))!.id;
    const changed = structuredClone(seed);
    changed.orgs[0]!.users[0] = { username: 'alice', password: 'new alice password', roles: [] };
    changed.orgs[0]!.policy.rules = [];
    await applySeed(parseSeed(changed), store.directory, audit, secrets);
    const alice = await store.directory.findUserByName('acme', 'alice');
    expect(alice?.id).toBe(id);
    expect(alice?.roles).toEqual([]);
    expect(await verifyPassword(alice!.passwordHash, 'new alice password')).toBe(true);
  });

  it('does not bring back a client an admin deleted: the id stays unused, the skip is audited', async () => {
    const store = createMemoryStore();
    const audit = createAudit(store.audit, silent);
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    await store.directory.deleteClient('wiki');
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    expect(await store.directory.getClient('wiki')).toBeUndefined();
    const applied = (await store.audit.query({ org: 'acme', type: 'seed.applied', limit: 1 })).items[0];
    expect(applied?.data).toMatchObject({ clients: 0, skippedDeletedClients: ['wiki'] });
  });

  it('changes a client secret, or removes it, as the seed says', async () => {
    const store = createMemoryStore();
    const audit = createAudit(store.audit, silent);
    await applySeed(parseSeed(seed), store.directory, audit, secrets);
    const changed = structuredClone(seed) as { orgs: Array<{ clients: Array<Record<string, unknown>> }> };
    changed.orgs[0]!.clients[0]!.client_secret = 'wiki-secret-new-0123456789';
    await applySeed(parseSeed(changed), store.directory, audit, secrets);
    const rotated = await store.directory.getClient('wiki');
    expect(secrets.matches(rotated?.client_secret_hash, 'wiki-secret-new-0123456789')).toBe(true);
    expect(secrets.matches(rotated?.client_secret_hash, 'wiki-secret-0123456789')).toBe(false);
    delete changed.orgs[0]!.clients[0]!.client_secret;
    await applySeed(parseSeed(changed), store.directory, audit, secrets);
    expect(await store.directory.getClient('wiki')).toMatchObject({ token_endpoint_auth_method: 'none' });
    expect((await store.directory.getClient('wiki'))?.client_secret_hash).toBeUndefined();
  });

  it('rejects a bad seed whole, naming every problem', () => {
    const bad = structuredClone(seed) as unknown as { orgs: Record<string, unknown>[] };
    bad.orgs[0]!.policy = { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 43200, rules: [{ name: 'x', match: { clients: ['nope'] }, idleTimeoutSeconds: 300 }] };
    bad.orgs[0]!.users = [{ username: 'a', password: 'short', roles: [] }];
    bad.orgs[0]!.clients = [{ client_id: 'c', redirect_uris: ['not a url'] }];
    let error: SeedError | undefined;
    try {
      parseSeed(bad);
    } catch (e) {
      error = e as SeedError;
    }
    expect(error).toBeInstanceOf(SeedError);
    const text = error!.problems.join('\n');
    expect(text).toContain('users.0.password');
    expect(text).toContain('clients.0.redirect_uris.0');
    // Policy problems are found once the structure is sound.
    const badPolicy = structuredClone(seed) as unknown as { orgs: Record<string, unknown>[] };
    badPolicy.orgs[0]!.policy = { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 43200, rules: [{ name: 'x', match: { clients: ['nope'] }, idleTimeoutSeconds: 300 }] };
    expect(() => parseSeed(badPolicy)).toThrow(/policy\.idleTimeoutSeconds[\s\S]*policy\.rules\.0\.match\.clients\.0/);
  });

  it('rejects a username or client_id that appears twice', () => {
    const dup = structuredClone(seed);
    dup.orgs[0]!.users.push({ username: 'ALICE', password: 'other password', roles: [] });
    expect(() => parseSeed(dup)).toThrow(/"alice" appears twice/);
  });
});

describe('seed totpSecret', () => {
  const withSecret = (totpSecret: string) => ({ orgs: [{ id: 'o', name: 'O', policy: { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600 }, users: [{ username: 'u', password: 'password 123', roles: [], totpSecret }], clients: [] }] });
  it('accepts base32 of 16 bytes or more, in any case and with spaces', () => {
    expect(parseSeed(withSecret('jbsw y3dp ehpk 3pxp jbsw y3dp ehpk 3pxp')).orgs[0]!.users[0]!.totpSecret).toBe('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
  });
  it('refuses a shorter or non-base32 secret', () => {
    expect(() => parseSeed(withSecret('JBSWY3DPEHPK3PXP'))).toThrow(/base32 of at least 16 bytes/);
    expect(() => parseSeed(withSecret('JBSWY3DPEHPK3PXP1JBSWY3DPEHPK3PXP'))).toThrow(SeedError);
  });
});
