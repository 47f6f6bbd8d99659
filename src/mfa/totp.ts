import { generate, generateSecret, generateURI, verify } from 'otplib';

/** RFC 6238 as SPEC §8 fixes it: SHA-1, 6 digits, 30 s steps, one step either side. */
const PERIOD = 30;

export function newTotpSecret(): string {
  // 20 bytes: RFC 4226's recommended length (otplib refuses fewer than 16).
  return generateSecret({ length: 20 });
}

export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret, period: PERIOD, digits: 6 });
}

export type TotpCheck = { valid: true; timeStep: number } | { valid: false };

/** Checks a code at `epochMs`, accepting the previous and next step for clock drift. */
export async function checkTotp(secret: string, code: string, epochMs: number): Promise<TotpCheck> {
  if (!/^\d{6}$/.test(code)) return { valid: false };
  try {
    const result = await verify({ secret, token: code, epoch: Math.floor(epochMs / 1000), period: PERIOD, epochTolerance: PERIOD });
    // TOTP results carry the matched time step (HOTP ones do not; this is always TOTP).
    return result.valid && 'timeStep' in result ? { valid: true, timeStep: result.timeStep as number } : { valid: false };
  } catch {
    return { valid: false };
  }
}

/** The code an authenticator shows at `epochMs` (tests, and nothing else, need this). */
export function totpCode(secret: string, epochMs: number): Promise<string> {
  return generate({ secret, epoch: Math.floor(epochMs / 1000), period: PERIOD });
}
