import { describe, expect, it } from 'vitest';
import { acrRequested } from '../../src/mfa/acr.ts';
import { ACR } from '../../src/oidc/claims.ts';

describe('acrRequested', () => {
  it('is true when acr_values lists the MFA class, alone or among others', () => {
    expect(acrRequested({ acr_values: ACR.mfa })).toBe(true);
    expect(acrRequested({ acr_values: `urn:other ${ACR.mfa}` })).toBe(true);
  });

  it('is false without it, for a prefix of it, or for a value that is not a string', () => {
    expect(acrRequested({})).toBe(false);
    expect(acrRequested({ acr_values: 'urn:other' })).toBe(false);
    expect(acrRequested({ acr_values: ACR.mfa.slice(0, -1) })).toBe(false);
    expect(acrRequested({ acr_values: [ACR.mfa] })).toBe(false);
  });
});
