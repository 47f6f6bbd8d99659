/** Authentication context classes Curfew asserts (SPEC §8): a password alone, or with TOTP. */
export const ACR = {
  password: 'urn:curfew:acr:pwd',
  mfa: 'urn:curfew:acr:mfa',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

/** Whether the authorization request asks for the MFA context class (acr_values). */
export function acrRequested(params: Record<string, unknown>): boolean {
  const values = typeof params.acr_values === 'string' ? params.acr_values.split(' ') : [];
  return values.includes(ACR.mfa);
}
