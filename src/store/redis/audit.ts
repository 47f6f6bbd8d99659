import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from '../../audit/types.ts';
import { auditBounds, idMs, matchesAudit, toPage } from '../audit-query.ts';
import type { AuditStore } from '../types.ts';
import { decode, str } from './decode.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import type { RedisClient } from './connection.ts';

/** Stream entries read per XREVRANGE while filtering in the client. */
const PAGE = 200;

function toAuditRecord(id: string, fields: string[]): AuditRecord {
  const at = fields.indexOf('e');
  if (at < 0 || at % 2 !== 0 || fields[at + 1] === undefined) throw new Error(`audit entry ${id} has no event field`);
  const event = JSON.parse(fields[at + 1]!) as NewAuditRecord;
  return { ...event, id, at: new Date(idMs(id)).toISOString() };
}

/** The audit streams, one per org (lua/audit.lua). */
export function createRedisAudit(redis: RedisClient, fn: FunctionCall, k: KeySchema): AuditStore {
  return {
    async append(event) {
      const json = JSON.stringify(event);
      const id = decode(str, await fn('audit_append', [k.audit(event.org)], [json]), 'audit_append');
      return toAuditRecord(id, ['e', json]);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const { before, sinceMs } = auditBounds(query);
      // `since` bounds the scan itself: an id of just `<ms>` means `<ms>-0`, inclusive.
      const floor = sinceMs === undefined ? '-' : String(Math.max(0, sinceMs));
      let end = before === undefined ? '+' : `(${before}`;
      const matches: AuditRecord[] = [];
      // Newest first, page by page, until one match more than the limit or the stream's end.
      for (;;) {
        const batch = (await redis.xrevrange(k.audit(query.org), end, floor, 'COUNT', PAGE)) as [string, string[]][];
        for (const [id, fields] of batch) {
          const record = toAuditRecord(id, fields);
          if (matchesAudit(record, query) && matches.push(record) > query.limit) break;
        }
        if (matches.length > query.limit || batch.length < PAGE) break;
        end = `(${batch.at(-1)![0]}`;
      }
      return toPage(matches, query.limit);
    },
  };
}
