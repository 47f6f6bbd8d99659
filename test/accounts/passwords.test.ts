import { describe, expect, it } from 'vitest';
import { burnPasswordCheck, hashPassword, verifyPassword } from '../../src/accounts/passwords.ts';

describe('password hashing', () => {
  it('hashes with argon2id at OWASP\'s 19 MiB, 2 passes, 1 lane profile, salted afresh each time', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(a).not.toBe(b);
  });

  it('verifies the password and nothing else', async () => {
    const hash = await hashPassword('correct horse');
    expect(await verifyPassword(hash, 'correct horse')).toBe(true);
    expect(await verifyPassword(hash, 'Correct horse')).toBe(false);
    expect(await verifyPassword(hash, '')).toBe(false);
  });

  it('answers false, never throws, for a stored hash that is not one', async () => {
    for (const bad of ['', 'not-a-hash', '$argon2id$broken', 'hmac-sha256:abc']) expect(await verifyPassword(bad, 'anything')).toBe(false);
  });

  it('spends a verification on an unknown user and resolves', async () => {
    await expect(burnPasswordCheck('guess')).resolves.toBeUndefined();
    await expect(burnPasswordCheck('guess again')).resolves.toBeUndefined();
  });
});
