import { describe, expect, it } from 'vitest';
import { awaitActivityCount } from '../../../src/oidc/enforcement/await-activity-count.ts';
import { judgeSsoSession } from '../../../src/oidc/enforcement/judge-sso-session.ts';
import { enforcementState } from '../../../src/oidc/enforcement/request-state.ts';
import { enforcementWorld, oidcContext } from './world.ts';

const request = () =>
  oidcContext({
    session: { uid: 's1', accountId: 'alice', acr: 'urn:curfew:acr:pwd', authorizations: { rp: { sid: 'sid-rp' } } },
    client: { clientId: 'rp' },
  });

describe('await-activity-count', () => {
  it("holds the answer until judge-sso-session's activity count is stored (SPEC §10), which judging did not wait for", async () => {
    const w = await enforcementWorld();
    await w.signIn('s1');
    const ctx = request();
    const before = (await w.sessions.get('s1'))?.activity?.authorize?.count ?? 0;
    await judgeSsoSession(w).check(ctx);
    expect(enforcementState(ctx).activityCounted).toBeInstanceOf(Promise);
    await awaitActivityCount()(ctx);
    expect((await w.sessions.get('s1'))?.activity?.authorize?.count).toBe(before + 1);
  });

  it('a count that failed fails the request', async () => {
    const ctx = request();
    const failed = Promise.reject(new Error('store unavailable'));
    failed.catch(() => {});
    enforcementState(ctx).activityCounted = failed;
    await expect(awaitActivityCount()(ctx)).rejects.toThrow('store unavailable');
  });

  it('has nothing to wait for where nothing was counted', async () => {
    await expect(awaitActivityCount()(request())).resolves.toBeUndefined();
  });
});
