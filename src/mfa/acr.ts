import { ACR } from '../oidc/claims.ts';

/** Whether the authorization request asks for the MFA context class (acr_values). */
export function acrRequested(params: Record<string, unknown>): boolean {
  const values = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  return values.includes(ACR.mfa);
}
