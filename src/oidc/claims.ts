// The context classes are the MFA domain's (src/mfa/acr.ts); the provider advertises them.
export { ACR, type Acr } from '../mfa/acr.ts';

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
