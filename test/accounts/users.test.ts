import { describe, expect, it } from 'vitest';
import { verifyPassword } from '../../src/accounts/passwords.ts';
import { newUser, newUserId, normalizeUsername, USERNAME } from '../../src/accounts/users.ts';

describe('usernames', () => {
  it('compare as typed: trimmed and case-insensitive', () => {
    expect(normalizeUsername('  Alice@Example.COM ')).toBe('alice@example.com');
  });

  it('accept 1-128 of letters, digits and . _ @ + -, starting with a letter or digit', () => {
    for (const ok of ['a', 'alice', 'a.b_c@d+e-f', '9lives', 'x'.repeat(128)]) expect(USERNAME.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['', '.alice', '-a', 'has space', 'Upper', 'x'.repeat(129), 'é']) expect(USERNAME.safeParse(bad).success, bad).toBe(false);
  });
});

describe('new users', () => {
  it('get a random opaque id, never reused', () => {
    const ids = new Set(Array.from({ length: 200 }, newUserId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^usr_[A-Za-z0-9_-]{16}$/);
  });

  it('keep only an argon2id hash of the password', async () => {
    const user = await newUser('acme', { username: 'alice', password: 'correct horse battery', roles: ['admin'] });
    expect(user).toMatchObject({ org: 'acme', username: 'alice', roles: ['admin'], disabled: false });
    expect(user.passwordHash).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(user)).not.toContain('correct horse battery');
    expect(await verifyPassword(user.passwordHash, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(user.passwordHash, 'wrong')).toBe(false);
  });
});
