import type { KoaContextWithOIDC } from 'oidc-provider';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findAccount } from '../../src/oidc/account.ts';
import type { User } from '../../src/orgs/types.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Store } from '../../src/store/types.ts';

const alice: User = { id: 'u-alice', org: 'acme', username: 'alice', passwordHash: 'not-a-hash', roles: ['admin'], disabled: false, createdAt: new Date().toISOString() };
// findAccount reads nothing of the request: it only keys its one read per request by it (src/oidc/request-user.ts).
let ctx: KoaContextWithOIDC;

describe('the provider\'s view of a user (src/oidc/account.ts)', () => {
  let store: Store;
  beforeEach(async () => {
    store = createMemoryStore();
    ctx = {} as KoaContextWithOIDC;
    await store.directory.putOrg({ id: 'acme', name: 'Acme', policy: { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off', refreshIsActivity: false, allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 604_800 } } });
  });
  afterEach(async () => {
    await store.close();
  });

  it('an enabled user is an account whose claims are the profile and org, never the password hash', async () => {
    await store.directory.putUser(alice);
    const account = await findAccount(store.directory, ctx, 'u-alice');
    expect(account?.accountId).toBe('u-alice');
    const claims = await account!.claims('id_token', 'openid profile', {}, []);
    expect(claims).toEqual({ sub: 'u-alice', preferred_username: 'alice', name: 'alice', roles: ['admin'], org: 'acme' });
    expect(JSON.stringify(claims)).not.toContain('not-a-hash');
  });

  it('a disabled user has no account, so their sessions yield no tokens', async () => {
    await store.directory.putUser({ ...alice, disabled: true });
    expect(await findAccount(store.directory, ctx, 'u-alice')).toBeUndefined();
  });

  it('an unknown or deleted user has no account', async () => {
    expect(await findAccount(store.directory, ctx, 'u-nobody')).toBeUndefined();
  });
});
