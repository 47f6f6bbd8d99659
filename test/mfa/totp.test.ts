import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpCode, totpUri } from '../../src/mfa/totp.ts';

const T = Date.UTC(2026, 10, 22, 12, 0, 15);

describe('TOTP (RFC 6238, 30 s, 6 digits, ±1 step)', () => {
  const secret = newTotpSecret();

  it('makes 160-bit base32 secrets and otpauth URIs', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = totpUri(secret, 'Curfew', 'alice');
    expect(uri).toMatch(/^otpauth:\/\/totp\/Curfew:alice\?/);
    expect(uri).toContain(`secret=${secret}`);
  });

  it('accepts the current step and one step either side, nothing further', async () => {
    for (const offset of [-1, 0, 1]) {
      const code = await totpCode(secret, T + offset * 30_000);
      expect((await checkTotp(secret, code, T)).valid, `offset ${offset}`).toBe(true);
    }
    const window = await Promise.all([-1, 0, 1].map((o) => totpCode(secret, T + o * 30_000)));
    for (const offset of [-2, 2]) {
      const code = await totpCode(secret, T + offset * 30_000);
      // Two steps can share a code by chance (1 in 10^6); only a distinct code proves the window.
      if (!window.includes(code)) expect((await checkTotp(secret, code, T)).valid, `offset ${offset}`).toBe(false);
    }
  });

  it('reports the matched time step, for replay protection', async () => {
    const result = await checkTotp(secret, await totpCode(secret, T + 30_000), T);
    expect(result).toEqual({ valid: true, timeStep: Math.floor(T / 30_000) + 1 });
  });

  it('rejects anything that is not six digits', async () => {
    for (const code of ['', '12345', '1234567', 'abcdef', '12 345']) expect((await checkTotp(secret, code, T)).valid).toBe(false);
  });

  it('matches the RFC 6238 SHA-1 test vector', async () => {
    // RFC 6238 Appendix B: secret "12345678901234567890", T = 59 s → 94287082 (8 digits); 6 digits → 287082.
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(await totpCode(rfcSecret, 59_000)).toBe('287082');
  });
});
