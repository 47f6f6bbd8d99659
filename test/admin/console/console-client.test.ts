import { describe, expect, it } from 'vitest';
import { consoleClientId, consoleClientSecret, decoyConsoleClient, ensureConsoleClients, isConsoleClient } from '../../../src/admin/console/console-client.ts';
import { createClientSecrets } from '../../../src/orgs/client-secret.ts';
import { createIdentifierHasher } from '../../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../../src/store/memory/index.ts';
import { policy } from '../../support/operations.ts';

const ISSUER = 'https://id.example';
const hash = createIdentifierHasher('k'.repeat(32));
const secrets = createClientSecrets('i'.repeat(32));

describe('the console\'s own client per org', () => {
  it('is named after its org', () => {
    expect(consoleClientId('acme')).toBe('curfew-console-acme');
    expect(isConsoleClient('curfew-console-acme')).toBe(true);
    expect(isConsoleClient('curfew-control-acme')).toBe(false);
    expect(isConsoleClient('acme-app')).toBe(false);
  });

  it('has a secret every instance derives alike from the identifier key, different per client and per key', () => {
    const secret = consoleClientSecret(hash, 'curfew-console-acme');
    expect(secret).toBe(consoleClientSecret(createIdentifierHasher('k'.repeat(32)), 'curfew-console-acme'));
    expect(secret).not.toBe(consoleClientSecret(hash, 'curfew-console-globex'));
    expect(secret).not.toBe(consoleClientSecret(createIdentifierHasher('j'.repeat(32)), 'curfew-console-acme'));
  });

  it('is registered for every org, at Curfew\'s own callback and back-channel endpoint, its secret stored hashed', async () => {
    const store = createMemoryStore();
    for (const id of ['acme', 'globex']) await store.directory.putOrg({ id, name: id, policy: policy() });
    await ensureConsoleClients(store.directory, ISSUER, hash, secrets);
    for (const org of ['acme', 'globex']) {
      const client = await store.directory.getClient(consoleClientId(org));
      expect(client).toMatchObject({
        org, redirect_uris: [`${ISSUER}/admin/callback`], post_logout_redirect_uris: [`${ISSUER}/admin`], backchannel_logout_uri: `${ISSUER}/admin/backchannel-logout`,
        token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], adminApi: false, firstParty: true,
      });
      expect(secrets.matches(client?.client_secret_hash, consoleClientSecret(hash, consoleClientId(org)))).toBe(true);
      expect(client?.client_secret_hash).not.toContain(consoleClientSecret(hash, consoleClientId(org)));
    }
    await store.close();
  });

  it('is refreshed in place: a new issuer is taken up, the creation date is kept', async () => {
    const store = createMemoryStore();
    await store.directory.putOrg({ id: 'acme', name: 'Acme', policy: policy() });
    await ensureConsoleClients(store.directory, ISSUER, hash, secrets);
    const first = await store.directory.getClient('curfew-console-acme');
    await ensureConsoleClients(store.directory, 'https://login.example', hash, secrets);
    const second = await store.directory.getClient('curfew-console-acme');
    expect(second?.createdAt).toBe(first?.createdAt);
    expect(second?.redirect_uris).toEqual(['https://login.example/admin/callback']);
    expect((await store.directory.listClients('acme')).filter((c) => isConsoleClient(c.client_id))).toHaveLength(1);
    await store.close();
  });

  it('has a decoy for an org that does not exist, in an org nobody belongs to, whose secret nobody knows', () => {
    const decoy = decoyConsoleClient('curfew-console-initech', ISSUER);
    expect(decoy).toMatchObject({ client_id: 'curfew-console-initech', org: '_', redirect_uris: [`${ISSUER}/admin/callback`] });
    expect(secrets.matches(decoy?.client_secret_hash, consoleClientSecret(hash, 'curfew-console-initech'))).toBe(false);
    for (const id of ['acme-app', 'curfew-console-', 'curfew-console-Acme', 'curfew-console-a_b', `curfew-console-${'a'.repeat(64)}`]) {
      expect(decoyConsoleClient(id, ISSUER), id).toBeUndefined();
    }
    expect(decoyConsoleClient(`curfew-console-${'a'.repeat(63)}`, ISSUER)).toBeDefined();
  });
});
