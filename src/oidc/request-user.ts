import type { User } from '../orgs/types.ts';

type ReadUser = (id: string) => Promise<User | undefined>;

// Keyed by the request itself: nothing outlives it, nothing is shared between requests.
const reads = new WeakMap<object, Map<string, Promise<User | undefined>>>();

/**
 * The user `id` as read once in this request (`request`: its koa context; without one, a
 * plain read). The adapter starts the read as it loads a token, beside the session check
 * rather than after it, and the library's `findAccount`, the second-factor check and the
 * sign-in record then reuse it instead of reading again: one read per request, as before, but
 * no longer a round trip of its own. Within a request the user is the one read at its start.
 */
export function userInRequest(request: object | undefined, id: string, read: ReadUser): Promise<User | undefined> {
  if (!request) return read(id);
  let users = reads.get(request);
  if (!users) {
    users = new Map();
    reads.set(request, users);
  }
  let found = users.get(id);
  if (!found) {
    found = read(id);
    users.set(id, found);
    // A read started ahead may go unused (the token was refused): its failure is not an
    // unhandled rejection, and a later ask in the request reads again.
    found.catch(() => users.delete(id));
  }
  return found;
}
