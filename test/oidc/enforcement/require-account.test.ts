import { interactionPolicy } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { requireAccount } from '../../../src/oidc/enforcement/require-account.ts';
import { oidcContext } from './world.ts';

const { Check } = interactionPolicy;
const account = { accountId: 'alice', claims: () => ({ sub: 'alice' }) };

describe('require-account', () => {
  it('asks a browser signed in as a user who no longer has an account to sign in again', async () => {
    expect(await requireAccount().check(oidcContext({ session: { uid: 's1', accountId: 'alice' } }))).toBe(Check.REQUEST_PROMPT);
  });

  it('lets an available account through, and has nothing to say without a sign-in', async () => {
    expect(await requireAccount().check(oidcContext({ session: { uid: 's1', accountId: 'alice' }, account }))).toBe(Check.NO_NEED_TO_PROMPT);
    expect(await requireAccount().check(oidcContext({ session: { uid: 's1' } }))).toBe(Check.NO_NEED_TO_PROMPT);
  });
});
