/**
 * An ending's id (SessionStore.endingId) may start with a routing prefix its store chose: the
 * text up to and including the first '.'. What is derived from an ending and looked up later by
 * its own id alone — the logout-token deliveries it queues — starts with the same prefix, so a
 * store that keeps an ending and its deliveries together (Redis Cluster: in the session's
 * shard) finds each by id. '' for an id without one (the memory store's, one Redis server's).
 */
export function routingPrefix(endingId: string): string {
  const dot = endingId.indexOf('.');
  return dot < 0 ? '' : endingId.slice(0, dot + 1);
}
