import type { AuditQuery, AuditRecord } from '../audit/types.ts';
import { CurfewError } from '../errors.ts';

/** Cursors are opaque to clients: the id of the last event of the previous page. */
export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

/**
 * A cursor that is not one of ours is the client's mistake (`invalid_cursor`), not ours, and the
 * query never silently restarts at the newest event (a client following it would loop over the
 * same pages). Both parts of an id are compared as JS numbers and sent to Redis as stream ids: a part past
 * 2^53 would compare wrongly here and be refused by Redis (a 500), so it is refused as input.
 */
export function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString();
  const parts = /^(\d{1,16})-(\d{1,16})$/.exec(id);
  if (!parts || !parts.slice(1).every((part) => Number.isSafeInteger(Number(part)))) throw new CurfewError('invalid_cursor');
  return id;
}

/** Epoch ms of a `<ms>-<seq>` id: a stream id's time part. */
export const idMs = (id: string) => Number(id.slice(0, id.indexOf('-')));

/** Orders `<ms>-<seq>` ids numerically (string order breaks once the seq reaches 10). */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am - bm || as - bs;
}

export interface AuditBounds {
  /** Exclusive upper bound: the last id of the previous page. */
  before?: string;
  /** Inclusive lower bound in epoch ms. */
  sinceMs?: number;
}

/** Validates what is not a client's to get wrong (limit, since) and decodes the cursor. */
export function auditBounds(query: AuditQuery): AuditBounds {
  if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError(`audit limit must be a positive integer, got ${query.limit}`);
  const bounds: AuditBounds = {};
  if (query.cursor !== undefined) bounds.before = decodeCursor(query.cursor);
  if (query.since !== undefined) {
    const sinceMs = Date.parse(query.since);
    if (Number.isNaN(sinceMs)) throw new RangeError(`audit since must be an ISO 8601 instant, got ${query.since}`);
    bounds.sinceMs = sinceMs;
  }
  return bounds;
}

export function matchesAudit(record: AuditRecord, query: AuditQuery): boolean {
  return (
    (query.type === undefined || record.type === query.type) &&
    (query.user === undefined || record.user === query.user) &&
    (query.session === undefined || record.session === query.session)
  );
}

/**
 * Cuts `limit + 1` newest-first matches into a page: the extra match only proves there is a
 * next page, so a client never follows a cursor to an empty page.
 */
export function toPage(matches: AuditRecord[], limit: number): { items: AuditRecord[]; nextCursor?: string } {
  const items = matches.slice(0, limit);
  return matches.length > limit ? { items, nextCursor: encodeCursor(items.at(-1)!.id) } : { items };
}
