/** Authentication context classes Curfew asserts (SPEC §8). */
export const ACR = {
  password: 'urn:curfew:acr:pwd',
  mfa: 'urn:curfew:acr:mfa',
} as const;

export type Acr = (typeof ACR)[keyof typeof ACR];

export const SCOPES = ['openid', 'profile', 'admin'];

/**
 * `acr`, `amr`, `auth_time` and `sid` belong to the `openid` scope, so every ID token carries
 * them whether or not the RP asked (SPEC §8).
 */
export const CLAIMS = {
  openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
  profile: ['preferred_username', 'name', 'roles', 'org'],
  acr: null,
  amr: null,
  auth_time: null,
  sid: null,
};
