import { describe, expect, it } from 'vitest';
import { createAuthenticator, type SignInOutcome } from '../../src/accounts/authenticate.ts';
import { hashPassword } from '../../src/accounts/passwords.ts';
import { ManualClock } from '../../src/clock.ts';
import type { User } from '../../src/orgs/types.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { DirectoryStore } from '../../src/store/types.ts';

const ACCOUNT_LIMIT = 5;
const IP_LIMIT = 8;
const BLOCK_SECONDS = 300;
const PASSWORD = 'bob password 1';

/** The authenticator over the memory store, its clock pinned from real now; bob's hash is real argon2id. */
async function setup(wrap: (d: DirectoryStore) => DirectoryStore = (d) => d) {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  const bob: User = { id: 'u-bob', org: 'acme', username: 'bob', passwordHash: await hashPassword(PASSWORD), roles: [], disabled: false, createdAt: new Date().toISOString() };
  await store.directory.putOrg({ id: 'acme', name: 'Acme', policy: { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off', refreshIsActivity: false, allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 31 * 86_400 } } });
  await store.directory.putUser(bob);
  const limits = {
    account: store.rateLimiter({ name: 'login-account', points: ACCOUNT_LIMIT, durationSeconds: BLOCK_SECONDS, blockSeconds: BLOCK_SECONDS }),
    ip: store.rateLimiter({ name: 'login-ip', points: IP_LIMIT, durationSeconds: BLOCK_SECONDS, blockSeconds: BLOCK_SECONDS }),
  };
  const outcomes: Array<[SignInOutcome, string | undefined]> = [];
  const auth = createAuthenticator(wrap(store.directory), limits, { signedIn: (o, by) => outcomes.push([o, by]) });
  const signIn = (over: { username?: string; password?: string; ip?: string } = {}) => auth.authenticate({ org: 'acme', username: 'bob', password: PASSWORD, ip: '10.0.0.1', ...over });
  return { clock, store, bob, limits, outcomes, signIn };
}

describe('password sign-in', () => {
  it('signs in with the right password, the username in any case and padded', async () => {
    const t = await setup();
    expect(await t.signIn({ username: '  BOB ' })).toEqual({ ok: true, user: t.bob });
    expect(t.outcomes).toEqual([['ok', undefined]]);
  });

  it('refuses a wrong password or an unknown user alike (invalid_credentials); only a known user is named back', async () => {
    const t = await setup();
    expect(await t.signIn({ password: 'wrong' })).toEqual({ ok: false, reason: 'invalid_credentials', user: t.bob });
    expect(await t.signIn({ username: 'nobody' })).toEqual({ ok: false, reason: 'invalid_credentials' });
    expect(t.outcomes).toEqual([['invalid_credentials', undefined], ['invalid_credentials', undefined]]);
  });

  it('refuses a disabled user with the right password, without counting a failure', async () => {
    const t = await setup();
    await t.store.directory.putUser({ ...t.bob, disabled: true });
    for (let i = 0; i < ACCOUNT_LIMIT + 1; i++) expect(await t.signIn()).toMatchObject({ ok: false, reason: 'disabled' });
    expect((await t.limits.account.check('acme\u0000bob')).blocked).toBe(false);
  });

  it(`locks the account after ${ACCOUNT_LIMIT} failures, however the username is typed; the block ends after ${BLOCK_SECONDS} s, not 1 ms before`, async () => {
    const t = await setup();
    const names = ['bob', 'BOB', ' Bob', 'bob ', 'bOb'];
    for (const username of names) expect(await t.signIn({ username, password: 'wrong', ip: `10.0.1.${names.indexOf(username)}` })).toMatchObject({ reason: 'invalid_credentials' });
    const lockedAt = t.clock.now();
    expect(await t.signIn({ ip: '10.9.9.9' })).toMatchObject({ ok: false, reason: 'rate_limited', limitedBy: 'account' });
    t.clock.set(lockedAt + BLOCK_SECONDS * 1000 - 1);
    expect(await t.signIn({ ip: '10.9.9.9' })).toMatchObject({ reason: 'rate_limited', limitedBy: 'account' });
    t.clock.set(lockedAt + BLOCK_SECONDS * 1000);
    expect(await t.signIn({ ip: '10.9.9.9' })).toMatchObject({ ok: true });
  });

  it('limits one IP across usernames, real or not, and refunds the account attempt the IP refused', async () => {
    const t = await setup();
    for (let i = 0; i < IP_LIMIT; i++) await t.signIn({ username: `ghost-${i}`, password: 'guess' });
    const refused = await t.signIn();
    expect(refused).toMatchObject({ ok: false, reason: 'rate_limited', limitedBy: 'ip' });
    expect(refused.ok === false && refused.reason === 'rate_limited' && refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(t.outcomes.at(-1)).toEqual(['rate_limited', 'ip']);
    // Another IP signs bob in: the refused attempt never counted against his account.
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) await t.signIn({ password: 'wrong', ip: '10.0.0.2' });
    expect(await t.signIn({ ip: '10.0.0.2' })).toMatchObject({ ok: true });
  });

  it('a success clears the account\'s failures', async () => {
    const t = await setup();
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) await t.signIn({ password: 'wrong' });
    expect((await t.signIn()).ok).toBe(true);
    for (let i = 0; i < ACCOUNT_LIMIT - 1; i++) await t.signIn({ password: 'wrong', ip: '10.0.0.3' });
    expect((await t.signIn({ ip: '10.0.0.3' })).ok).toBe(true);
  });

  it(`judges at most ${ACCOUNT_LIMIT} of 50 parallel sign-ins of one account; the right password among them is refused`, async () => {
    const t = await setup();
    const tries = [...Array.from({ length: 49 }, (_, i) => t.signIn({ password: `wrong-${i}`, ip: `10.1.0.${i}` })), t.signIn({ ip: '10.1.1.1' })];
    const results = await Promise.all(tries);
    expect(results.filter((r) => !r.ok && r.reason === 'invalid_credentials').length).toBeLessThanOrEqual(ACCOUNT_LIMIT);
    expect(results.filter((r) => !r.ok && r.reason === 'rate_limited').length).toBeGreaterThanOrEqual(50 - ACCOUNT_LIMIT);
    expect(results[49]).toMatchObject({ ok: false, reason: 'rate_limited', limitedBy: 'account' });
  });

  it('gives both attempts back when the directory fails: errors never lock anyone out', async () => {
    let failing = true;
    const t = await setup((d) => ({ ...d, findUserByName: (org, name) => (failing ? Promise.reject(new Error('store down')) : d.findUserByName(org, name)) }));
    for (let i = 0; i < IP_LIMIT + 1; i++) await expect(t.signIn()).rejects.toThrow('store down');
    failing = false;
    expect((await t.signIn()).ok).toBe(true);
  });
});
