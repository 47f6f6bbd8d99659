import type { User } from '../orgs/types.ts';

/**
 * Applies an updateUser change and holds it to its contract: a change edits a user's fields,
 * never who the user is (id, org) or the name the org's index holds them under (username) —
 * those go through putUser, whose function keeps the indexes consistent.
 */
export function checkedChange(before: User, change: (user: User) => User): User {
  const after = change(structuredClone(before));
  for (const field of ['id', 'org', 'username'] as const) {
    if (after[field] !== before[field]) throw new Error(`updateUser may not change a user's ${field}; use putUser`);
  }
  return after;
}
