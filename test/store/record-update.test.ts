import { describe, expect, it } from 'vitest';
import type { User } from '../../src/orgs/types.ts';
import { checkedChange } from '../../src/store/record-update.ts';

const alice: User = { id: 'usr_1', org: 'acme', username: 'alice', passwordHash: 'h', roles: ['staff'], disabled: false, createdAt: '2026-01-01T00:00:00.000Z' };
const fixed = ['id', 'org', 'username'] as const;

describe('checkedChange', () => {
  it('returns the changed record and leaves the one it was given untouched', () => {
    const before = structuredClone(alice);
    const after = checkedChange(before, (u) => { u.roles.push('admin'); return { ...u, disabled: true }; }, fixed);
    expect(after).toEqual({ ...alice, roles: ['staff', 'admin'], disabled: true });
    expect(before).toEqual(alice);
  });

  it.each(fixed)('refuses a change of the record\'s %s', (field) => {
    expect(() => checkedChange(alice, (u) => ({ ...u, [field]: 'other' }), fixed)).toThrow(`may not change a record's ${field}`);
  });

  it('lets every other field change', () => {
    expect(checkedChange(alice, (u) => ({ ...u, passwordHash: 'h2', createdAt: 'x' }), fixed)).toMatchObject({ passwordHash: 'h2', createdAt: 'x' });
  });
});
