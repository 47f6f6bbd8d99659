import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** Usernames compare as users type them: trimmed, case-insensitive (stored lowercase). */
export const normalizeUsername = (value: string) => value.trim().toLowerCase();

export const USERNAME = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._@+-]{0,127}$/, 'must be 1-128 characters: letters, digits, . _ @ + -');

/** A user id is the OIDC `sub`: random, never reused, meaningless outside Curfew. */
export const newUserId = () => `usr_${randomBytes(12).toString('base64url')}`;
