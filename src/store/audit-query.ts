import type { AuditQuery, AuditRecord } from '../audit/types.ts';

/** Cursors are opaque to clients: the id of the last event of the previous page. */
export const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

export function decodeCursor(cursor: string): string | undefined {
  const id = Buffer.from(cursor, 'base64url').toString();
  return /^\d+-\d+$/.test(id) ? id : undefined;
}

export function matchesAudit(record: AuditRecord, query: AuditQuery): boolean {
  return (
    (query.type === undefined || record.type === query.type) &&
    (query.user === undefined || record.user === query.user) &&
    (query.session === undefined || record.session === query.session)
  );
}
