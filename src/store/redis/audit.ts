import type { Redis } from 'ioredis';
import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from '../../audit/types.ts';
import { auditBounds, idMs, matchesAudit, toPage } from '../audit-query.ts';
import type { AuditStore } from '../types.ts';
import { NOW_MS_LUA } from './sessions.ts';

/**
 * Appends an audit event stamped with the shared clock: the stream id's ms part is the
 * shared now (the pinned test time if any, else the server's TIME), never below the newest
 * id so ids stay ordered; Redis numbers the sequence part.
 * KEYS: stream, pin|''  ARGV: json
 */
const AUDIT_APPEND = `${NOW_MS_LUA}
local now = now_ms(KEYS[2])
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if top[1] then
  local last = tonumber(string.match(top[1][1], '^(%d+)-'))
  if last > now then now = last end
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000000, string.format('%.0f', now) .. '-*', 'e', ARGV[1])`;

type AuditRedis = Redis & { curfewAuditAppend(stream: string, pin: string, json: string): Promise<string> };

/** Stream entries read per XREVRANGE while filtering in the client. */
const PAGE = 200;

function toAuditRecord(id: string, fields: string[]): AuditRecord {
  const at = fields.indexOf('e');
  if (at < 0 || at % 2 !== 0 || fields[at + 1] === undefined) throw new Error(`audit entry ${id} has no event field`);
  const event = JSON.parse(fields[at + 1]!) as NewAuditRecord;
  return { ...event, id, at: new Date(idMs(id)).toISOString() };
}

export function createRedisAudit(client: Redis, p: string, pinKey: string): AuditStore {
  const redis = client as AuditRedis;
  redis.defineCommand('curfewAuditAppend', { numberOfKeys: 2, lua: AUDIT_APPEND });
  const stream = (org: string | undefined) => `${p}audit:${org ?? '_'}`;
  return {
    async append(event) {
      const json = JSON.stringify(event);
      const id = await redis.curfewAuditAppend(stream(event.org), pinKey, json);
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
        const batch = (await redis.xrevrange(stream(query.org), end, floor, 'COUNT', PAGE)) as [string, string[]][];
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
