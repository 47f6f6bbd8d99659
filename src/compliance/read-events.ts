import type { AuditRecord } from '../audit/types.ts';
import type { AuditStore } from '../store/types.ts';

const PAGE = 500;

/**
 * Reads an org's audit stream from now back to `since`, page by page (the stream is newest
 * first): the events of [since, until), and the policy changes after `until`, which say what
 * was in force when the period ended.
 */
export async function readPeriod(audit: AuditStore, org: string, since: string, until: string): Promise<{ events: AuditRecord[]; laterPolicyChanges: AuditRecord[] }> {
  const untilMs = Date.parse(until);
  const events: AuditRecord[] = [];
  const laterPolicyChanges: AuditRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await audit.query({ org, since, limit: PAGE, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      if (Date.parse(record.at) < untilMs) events.push(record);
      else if (record.type === 'policy.changed') laterPolicyChanges.push(record);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { events, laterPolicyChanges };
}
