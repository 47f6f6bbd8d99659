import type { AuditPage, AuditQuery, AuditRecord, NewAuditRecord } from '../../audit/types.ts';
import type { Clock } from '../../clock.ts';
import { auditBounds, compareIds, idMs, matchesAudit, toPage } from '../audit-query.ts';
import type { AuditStore } from '../types.ts';

const clone = <T>(value: T): T => structuredClone(value);

/** Mirrors the Redis stream's `MAXLEN ~ 1000000`: the embedded default must not grow forever. */
const AUDIT_MAX = 1_000_000;
const AUDIT_TRIM_SLACK = 10_000;

/** Index of the newest record strictly older than `id` in an ascending list; -1 if none. */
function lastBefore(list: AuditRecord[], id: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(list[mid]!.id, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

export function createMemoryAudit(clock: Clock): AuditStore {
  const streams = new Map<string, AuditRecord[]>();
  let lastMs = 0;
  let seq = 0;
  // Ids shaped like Redis stream ids (`<ms>-<seq>`), strictly increasing even if the clock stalls
  // or steps back; `at` is the id's time, as in Redis.
  const nextId = () => {
    const now = clock.now();
    if (now > lastMs) {
      lastMs = now;
      seq = 0;
    } else {
      seq += 1;
    }
    return `${lastMs}-${seq}`;
  };
  const streamOf = (org: string) => {
    let list = streams.get(org);
    if (!list) streams.set(org, (list = []));
    return list;
  };
  return {
    async append(event: NewAuditRecord) {
      const id = nextId();
      const record: AuditRecord = { ...clone(event), id, at: new Date(idMs(id)).toISOString() };
      const list = streamOf(event.org ?? '_');
      list.push(record);
      // Trimmed in chunks, like Redis's approximate MAXLEN, so appends stay O(1) amortised.
      if (list.length > AUDIT_MAX + AUDIT_TRIM_SLACK) list.splice(0, list.length - AUDIT_MAX);
      return clone(record);
    },
    async query(query: AuditQuery): Promise<AuditPage> {
      const { before, sinceMs } = auditBounds(query);
      const list = streams.get(query.org) ?? [];
      const matches: AuditRecord[] = [];
      for (let i = before === undefined ? list.length - 1 : lastBefore(list, before); i >= 0 && matches.length <= query.limit; i--) {
        const record = list[i]!;
        if (sinceMs !== undefined && idMs(record.id) < sinceMs) break;
        if (matchesAudit(record, query)) matches.push(clone(record));
      }
      return toPage(matches, query.limit);
    },
  };
}
