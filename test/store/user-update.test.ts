import { describe, expect, it } from 'vitest';
import type { User } from '../../src/orgs/types.ts';
import { checkedChange } from '../../src/store/user-update.ts';

const alice: User = { id: 'usr_1', org: 'acme', username: 'alice', passwordHash: 'h', roles: ['staff'], disabled: false, createdAt: '2026-01-01T00:00:00.000Z' };

describe('checkedChange', () => {
  it('returns the changed record and leaves the one it was given untouched', () => {
    const before = structuredClone(alice);
    const after = checkedChange(before, (u) => { u.roles.push('admin'); return { ...u, disabled: true }; });
    expect(after).toEqual({ ...alice, roles: ['staff', 'admin'], disabled: true });
    expect(before).toEqual(alice);
  });

  it.each(['id', 'org', 'username'] as const)('refuses a change of the user\'s %s', (field) => {
    expect(() => checkedChange(alice, (u) => ({ ...u, [field]: 'other' }))).toThrow(`may not change a user's ${field}`);
  });
});
