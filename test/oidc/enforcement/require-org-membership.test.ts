import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { findAccount } from '../../../src/oidc/account.ts';
import { requireOrgMembership } from '../../../src/oidc/enforcement/require-org-membership.ts';
import { enforcementWorld, oidcContext } from './world.ts';

const { Check } = interactionPolicy;

describe('require-org-membership', () => {
  it('refuses a user of another org (access_denied), lets the org\'s own user through', async () => {
    const w = await enforcementWorld();
    const step = requireOrgMembership();
    expect(step.error).toBe('access_denied');
    const accountOf = async (sub: string) => findAccount(w.directory, oidcContext({}) as KoaContextWithOIDC, sub);
    const alice = await accountOf('alice');
    const carol = await accountOf('carol');
    expect(await step.check(oidcContext({ account: alice, client: { clientId: 'rp', org: 'acme' } }))).toBe(Check.NO_NEED_TO_PROMPT);
    expect(await step.check(oidcContext({ account: carol, client: { clientId: 'rp', org: 'acme' } }))).toBe(Check.REQUEST_PROMPT);
    expect(await step.check(oidcContext({ client: { clientId: 'rp', org: 'acme' } }))).toBe(Check.NO_NEED_TO_PROMPT);
  });
});
