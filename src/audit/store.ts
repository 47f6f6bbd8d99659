import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from './types.ts';

/** The audit log's store port (src/store implements it): the durable audit stream, per org, newest first when queried. */
export interface AuditStore {
  /** Atomic: stamped with the shared clock and ordered after the newest event, in one Lua function. */
  append(record: NewAuditRecord): Promise<AuditRecord>;
  /** Reads page by page, newest first; events appended meanwhile are newer than the first page and not in it. */
  query(query: AuditQuery): Promise<AuditPage>;
}
