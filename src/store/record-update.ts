/**
 * Applies an updateUser/updateClient change and holds it to its contract: a change edits a
 * record's fields, never what identifies it (id, org) or what an index holds it under
 * (username) — those go through putUser/putClient, whose functions keep the indexes consistent.
 */
export function checkedChange<T extends object>(before: T, change: (record: T) => T, fixed: readonly (keyof T)[]): T {
  const after = change(structuredClone(before));
  for (const field of fixed) {
    if (after[field] !== before[field]) throw new Error(`an update may not change a record's ${String(field)}; replace it instead`);
  }
  return after;
}

/**
 * How often a compare-and-set update re-reads a record another write changed under it (Redis).
 * Every failed attempt means someone else's write landed, so contention ends; the bound only
 * keeps a pathological writer from holding a request forever (it then answers 409).
 */
export const UPDATE_ATTEMPTS = 100;
