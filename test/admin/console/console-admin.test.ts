import { describe, expect, it } from 'vitest';
import { mayAdminister } from '../../../src/admin/console/console-admin.ts';
import type { User } from '../../../src/orgs/types.ts';

const admin: User = { id: 'usr_1', org: 'acme', username: 'bob', passwordHash: '$argon2id$x', roles: ['staff', 'admin'], disabled: false, createdAt: '2026-01-01T00:00:00.000Z' };

describe('who may administer an org', () => {
  it('is an enabled user of that org with the admin role', () => {
    expect(mayAdminister(admin, 'acme')).toBe(true);
  });
  it.each([
    ['a user who no longer exists', undefined, 'acme'],
    ['a user without the admin role', { ...admin, roles: ['staff'] }, 'acme'],
    ['a disabled admin', { ...admin, disabled: true }, 'acme'],
    ["an admin of another org", admin, 'globex'],
    ['a role that only looks like admin', { ...admin, roles: ['Admin', 'admins'] }, 'acme'],
  ] as const)('is not %s', (_what, user, org) => {
    expect(mayAdminister(user as User | undefined, org)).toBe(false);
  });
});
