import { interactionPolicy } from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { ACR } from '../../../src/mfa/acr.ts';
import { requireSecondFactor } from '../../../src/oidc/enforcement/require-second-factor.ts';
import { enforcementWorld, oidcContext } from './world.ts';

const { Check } = interactionPolicy;

function request(accountId: string, acr: string, params: Record<string, unknown> = {}, login = false) {
  return oidcContext({
    session: { uid: 's1', accountId, acr },
    client: { clientId: 'rp' },
    params,
    ...(login ? { result: { login: { accountId } } } : {}),
  });
}

describe('require-second-factor', () => {
  it('asks for TOTP when the RP asks for the MFA acr and the session has only a password', async () => {
    const w = await enforcementWorld();
    const step = requireSecondFactor(w);
    expect(await step.check(request('alice', ACR.password, { acr_values: ACR.mfa }))).toBe(Check.REQUEST_PROMPT);
    expect(await step.check(request('alice', ACR.mfa, { acr_values: ACR.mfa }))).toBe(Check.NO_NEED_TO_PROMPT);
    expect(await step.check(request('alice', ACR.password))).toBe(Check.NO_NEED_TO_PROMPT);
  });

  it('asks for TOTP in an org whose mode is always', async () => {
    const w = await enforcementWorld();
    expect(await requireSecondFactor(w).check(request('carol', ACR.password))).toBe(Check.REQUEST_PROMPT);
    expect(await requireSecondFactor(w).check(request('carol', ACR.mfa))).toBe(Check.NO_NEED_TO_PROMPT);
  });

  it('asks for TOTP while a timeout left a step-up for this client, even with the MFA acr', async () => {
    const w = await enforcementWorld();
    await w.mfa.requireStepUp('alice', 'rp');
    expect(await requireSecondFactor(w).check(request('alice', ACR.mfa))).toBe(Check.REQUEST_PROMPT);
  });

  it('leaves a sign-in that just finished alone: its forms applied these rules', async () => {
    const w = await enforcementWorld();
    expect(await requireSecondFactor(w).check(request('carol', ACR.password, { acr_values: ACR.mfa }, true))).toBe(Check.NO_NEED_TO_PROMPT);
  });
});
