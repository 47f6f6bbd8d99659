import type { Adapter, AdapterPayload } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { StoreUnavailableError } from '../../src/errors.ts';
import { createAdapter, type AdapterEnforcement, type ExplainMissingClient } from '../../src/oidc/adapter.ts';
import { userInRequest } from '../../src/oidc/request-user.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Store } from '../../src/store/types.ts';
import { client } from '../support/operations.ts';

const hash = createIdentifierHasher('adapter test identifier key');

/** The adapter's enforcement hooks, answering as told and remembering what they were asked. */
function enforcementAnswering(alive: boolean) {
  const loaded: Array<{ sessionUid: string; clientId: string }> = [];
  const saved: Array<Parameters<AdapterEnforcement['codeSaved']>[0]> = [];
  const enforcement: AdapterEnforcement = {
    async tokenLoaded(token) {
      loaded.push(token);
      return alive;
    },
    codeSaved(code) {
      saved.push(code);
    },
  };
  return { enforcement, loaded, saved };
}

describe('the provider adapter over the store (src/oidc/adapter.ts)', () => {
  let store: Store;
  beforeEach(() => {
    store = createMemoryStore({ clock: new ManualClock(Date.now()) });
  });
  afterEach(async () => {
    await store.close();
  });

  const adapterFor = (model: string, alive = true, explain?: ExplainMissingClient, decoy?: Parameters<typeof createAdapter>[5]) => {
    const hooks = enforcementAnswering(alive);
    const adapter: Adapter = createAdapter(store.models, store.directory, hash, hooks.enforcement, explain, decoy)(model);
    return { adapter, ...hooks };
  };

  describe('models', () => {
    it('stores a record under the keyed hash of its id, without its bearer value, and gives the jti back on find', async () => {
      const { adapter } = adapterFor('Session');
      const payload: AdapterPayload = { jti: 'the-cookie-value', uid: 'the-uid', accountId: 'alice', kind: 'Session' };
      await adapter.upsert('the-cookie-value', payload, 600);

      expect(await store.models.find('Session', 'the-cookie-value')).toBeUndefined();
      const stored = await store.models.find('Session', hash('the-cookie-value'));
      // Nor its kind: the model's name, which the library puts back itself.
      expect(stored).toEqual({ uid: 'the-uid', accountId: 'alice' });
      expect(JSON.stringify(stored)).not.toContain('the-cookie-value');

      const { kind: _kind, ...found } = payload;
      expect(await adapter.find('the-cookie-value')).toEqual(found);
      // Found by uid (hashed too), without the bearer value the library does not need there.
      expect(await adapter.findByUid('the-uid')).toEqual({ uid: 'the-uid', accountId: 'alice' });
      expect(await store.models.findByUid('Session', 'the-uid')).toBeUndefined();
    });

    it('stores no expiresWithSession a session-bound record always carries (nor its kind), and gives it back', async () => {
      const { adapter } = adapterFor('ClientCredentials');
      await adapter.upsert('bound', { jti: 'bound', sessionUid: 's1', clientId: 'rp', expiresWithSession: true, kind: 'ClientCredentials' }, 60);
      await adapter.upsert('free', { jti: 'free', clientId: 'rp', kind: 'ClientCredentials' }, 60);
      expect(await store.models.find('ClientCredentials', hash('bound'))).toEqual({ sessionUid: 's1', clientId: 'rp' });
      expect(await adapter.find('bound')).toEqual({ jti: 'bound', sessionUid: 's1', clientId: 'rp', expiresWithSession: true });
      expect(await adapter.find('free')).toEqual({ jti: 'free', clientId: 'rp' });
    });

    it('drops the session cookie an Interaction copies', async () => {
      const { adapter } = adapterFor('Interaction');
      await adapter.upsert('i1', { jti: 'i1', session: { uid: 's-uid', cookie: 'the-cookie-value', accountId: 'alice' } }, 600);
      const stored = await store.models.find('Interaction', hash('i1'));
      expect(stored).toEqual({ session: { uid: 's-uid', accountId: 'alice' } });
    });

    it('finds device codes by their hashed user code, consumes with a timestamp and destroys', async () => {
      const { adapter } = adapterFor('DeviceCode');
      await adapter.upsert('d1', { jti: 'd1', userCode: 'ABCD-EFGH' }, 600);
      expect(await adapter.findByUserCode('ABCD-EFGH')).toEqual({ userCode: 'ABCD-EFGH' });
      await adapter.consume('d1');
      expect((await adapter.find('d1'))?.consumed).toEqual(expect.any(Number));
      await adapter.destroy('d1');
      expect(await adapter.find('d1')).toBeUndefined();
    });

    it("starts reading the token's user beside the session check, for a request that reads the account next, and only then", async () => {
      const reads: string[] = [];
      let checking: string[] = [];
      const directory = { ...store.directory, getUser: async (id: string) => (reads.push(id), undefined) };
      const enforcement: AdapterEnforcement = {
        async tokenLoaded() {
          // The read was sent before the check is answered.
          checking = [...reads];
          return true;
        },
        codeSaved() {},
      };
      const request = {};
      const reading = createAdapter(store.models, directory, hash, enforcement, undefined, undefined, () => request)('RefreshToken');
      await reading.upsert('rt', { jti: 'rt', sessionUid: 's1', clientId: 'rp', accountId: 'alice' }, 60);
      await reading.find('rt');
      expect(checking).toEqual(['alice']);
      // The library's findAccount takes that read.
      await userInRequest(request, 'alice', async () => {
        throw new Error('read again');
      });
      const other = createAdapter(store.models, directory, hash, enforcement, undefined, undefined, () => undefined)('RefreshToken');
      await other.find('rt');
      expect(reads).toEqual(['alice']);
    });

    it('tells enforcement of every authorization code saved, with its session, client, grant and sid', async () => {
      const { adapter, saved } = adapterFor('AuthorizationCode');
      await adapter.upsert('code-1', { jti: 'code-1', sessionUid: 's1', clientId: 'rp', grantId: 'g1', sid: 'sid-1' }, 60);
      await adapter.upsert('code-2', { jti: 'code-2', sessionUid: 's1', clientId: 'rp' }, 60);
      expect(saved).toEqual([{ sessionUid: 's1', clientId: 'rp', grantId: 'g1', sid: 'sid-1' }, { sessionUid: 's1', clientId: 'rp' }]);

      const refresh = adapterFor('RefreshToken');
      await refresh.adapter.upsert('rt', { jti: 'rt', sessionUid: 's1', clientId: 'rp' }, 60);
      expect(refresh.saved).toEqual([]);
    });

    it.each(['AuthorizationCode', 'AccessToken', 'RefreshToken'])('gives a session-bound %s only while enforcement lets its session use it', async (model) => {
      const alive = adapterFor(model, true);
      await alive.adapter.upsert('t1', { jti: 't1', sessionUid: 's1', clientId: 'rp', grantId: 'g1' }, 60);
      expect(await alive.adapter.find('t1')).toMatchObject({ jti: 't1', sessionUid: 's1' });
      expect(alive.loaded).toEqual([{ sessionUid: 's1', clientId: 'rp' }]);
    });

    it('refuses a token whose session is dead and revokes every token of its grant', async () => {
      const { adapter: live } = adapterFor('AccessToken', true);
      await live.upsert('at', { jti: 'at', sessionUid: 's1', clientId: 'rp', grantId: 'g1' }, 60);
      await adapterFor('RefreshToken').adapter.upsert('rt', { jti: 'rt', sessionUid: 's1', clientId: 'rp', grantId: 'g1' }, 60);
      await adapterFor('RefreshToken').adapter.upsert('other', { jti: 'other', sessionUid: 's2', clientId: 'rp', grantId: 'g2' }, 60);

      const dead = adapterFor('AccessToken', false);
      expect(await dead.adapter.find('at')).toBeUndefined();
      expect(dead.loaded).toEqual([{ sessionUid: 's1', clientId: 'rp' }]);
      expect(await store.models.find('AccessToken', hash('at'))).toBeUndefined();
      expect(await store.models.find('RefreshToken', hash('rt'))).toBeUndefined();
      expect(await store.models.find('RefreshToken', hash('other'))).toBeDefined();
    });

    it('does not ask enforcement about records that are not session-bound', async () => {
      const { adapter, loaded } = adapterFor('ClientCredentials', false);
      await adapter.upsert('cc', { jti: 'cc', clientId: 'rp' }, 60);
      expect(await adapter.find('cc')).toEqual({ jti: 'cc', clientId: 'rp' });
      expect(loaded).toEqual([]);
    });
  });

  describe('clients', () => {
    it('reads a client from the directory on every find, as provider metadata', async () => {
      const { adapter } = adapterFor('Client');
      await store.directory.putClient(client('rp', 'acme'));
      expect(await adapter.find('rp')).toMatchObject({ client_id: 'rp', org: 'acme', response_types: ['code'] });
      await store.directory.putClient(client('rp', 'acme', { redirect_uris: ['https://app.example/new'] }));
      expect(await adapter.find('rp')).toMatchObject({ redirect_uris: ['https://app.example/new'] });
    });

    it('refuses to store a client: clients are managed through the directory', async () => {
      const { adapter } = adapterFor('Client');
      await expect(adapter.upsert('rp', { client_id: 'rp' }, undefined)).rejects.toThrow(/directory/);
    });

    it('asks why a client is missing: unavailable throws, restored reads again, missing gives the decoy or nothing', async () => {
      const unavailable = adapterFor('Client', true, async () => 'unavailable');
      await expect(unavailable.adapter.find('rp')).rejects.toBeInstanceOf(StoreUnavailableError);

      const restored = adapterFor('Client', true, async () => {
        await store.directory.putClient(client('rp', 'acme'));
        return 'restored';
      });
      expect(await restored.adapter.find('rp')).toMatchObject({ client_id: 'rp' });

      const decoy = adapterFor('Client', true, async () => 'missing', (id) => (id === 'console' ? client('console', 'acme') : undefined));
      expect(await decoy.adapter.find('console')).toMatchObject({ client_id: 'console' });
      expect(await decoy.adapter.find('nobody')).toBeUndefined();
    });
  });
});
