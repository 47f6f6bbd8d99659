import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { User } from '../orgs/types.ts';
import { hashPassword } from './passwords.ts';

/** Usernames compare as users type them: trimmed, case-insensitive (stored lowercase). */
export const normalizeUsername = (value: string) => value.trim().toLowerCase();

export const USERNAME = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._@+-]{0,127}$/, 'must be 1-128 characters: letters, digits, . _ @ + -');

/** A user id is the OIDC `sub`: random, never reused, meaningless outside Curfew. */
export const newUserId = () => `usr_${randomBytes(12).toString('base64url')}`;

/** A new user of an org, with an argon2id hash of the initial password. */
export async function newUser(org: string, input: { username: string; password: string; roles: string[]; disabled?: boolean }): Promise<User> {
  return {
    id: newUserId(),
    org,
    username: input.username,
    passwordHash: await hashPassword(input.password),
    roles: input.roles,
    disabled: input.disabled ?? false,
    createdAt: new Date().toISOString(),
  };
}
