import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, parseKeyring } from '../../src/mfa/secret-box.ts';

const key = (kid: string) => ({ kid, key: randomBytes(32) });

describe('secret box (AES-256-GCM with key ids)', () => {
  it('seals with the newest key and opens what it sealed', () => {
    const box = createSecretBox([key('k2'), key('k1')]);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'totp:usr_1');
    expect(sealed.kid).toBe('k2');
    expect(sealed.ct).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'totp:usr_1')).toBe('JBSWY3DPEHPK3PXP');
  });

  it('opens secrets sealed under an older key after rotation', () => {
    const k1 = key('k1');
    const old = createSecretBox([k1]).seal('secret', 'ctx');
    const rotated = createSecretBox([key('k2'), k1]);
    expect(rotated.open(old, 'ctx')).toBe('secret');
    expect(rotated.seal('x', 'ctx').kid).toBe('k2');
  });

  it('refuses a secret moved to another user, tampered with, or under an unknown key', () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal('secret', 'totp:usr_1');
    expect(() => box.open(sealed, 'totp:usr_2')).toThrow();
    const flipped = { ...sealed, ct: Buffer.from(Buffer.from(sealed.ct, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url') };
    expect(() => box.open(flipped, 'totp:usr_1')).toThrow();
    expect(() => createSecretBox([key('other')]).open(sealed, 'totp:usr_1')).toThrow(/no key k1/);
  });

  it('checks its keys at creation', () => {
    expect(() => createSecretBox([])).toThrow(/at least one key/);
    expect(() => createSecretBox([{ kid: 'short', key: randomBytes(16) }])).toThrow(/32 bytes/);
  });

  it('parses kid:base64 keyrings', () => {
    const raw = randomBytes(32);
    expect(parseKeyring([`a:${raw.toString('base64')}`, `b:${raw.toString('base64url')}`]).map((k) => k.key.equals(raw))).toEqual([true, true]);
  });
});
