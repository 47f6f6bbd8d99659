import { AUDIT_EVENT_TYPES, type AuditEventType, type AuditRecord } from '../../audit/types.ts';
import { ValidationError } from '../../errors.ts';
import { decodeCursor, encodeCursor, compareIds } from '../../store/audit-query.ts';
import type { Store } from '../../store/types.ts';

/**
 * The audit page's filters as the admin typed them (`input`) and as the store reads them.
 * A user is named by username or id (SPEC §11); the caller resolves it.
 */
export interface AuditFilter {
  type?: AuditEventType;
  user?: string;
  client?: string;
  session?: string;
  /** ISO 8601 instants, inclusive. */
  since?: string;
  until?: string;
}

const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/**
 * Reads the filters from a query string. A bad type or instant is the admin's mistake: every bad
 * field is named at once (400), nothing is silently widened to "all events".
 */
export function parseAuditFilter(query: Record<string, unknown>): { filter: AuditFilter; input: Record<string, string> } {
  const input = { type: text(query.type), user: text(query.user), client: text(query.client), session: text(query.session), since: text(query.since), until: text(query.until) };
  const errors: ValidationError['fields'] = [];
  const filter: AuditFilter = {};
  if (input.type) {
    if ((AUDIT_EVENT_TYPES as readonly string[]).includes(input.type)) filter.type = input.type as AuditEventType;
    else errors.push({ field: 'type', message: `unknown event type: ${input.type}` });
  }
  for (const name of ['since', 'until'] as const) {
    if (!input[name]) continue;
    // A datetime-local input sends no zone; it is read as UTC, as the page says.
    const zoneless = /T[\d:.]+$/.test(input[name]);
    const utc = Date.parse(zoneless ? `${input[name]}Z` : input[name]);
    if (Number.isNaN(utc)) errors.push({ field: name, message: `not a date and time: ${input[name]}` });
    else filter[name] = new Date(utc).toISOString();
  }
  if (filter.since && filter.until && filter.since > filter.until) errors.push({ field: 'until', message: 'until is before since' });
  if (errors.length) throw new ValidationError(errors, 'the audit filter is invalid');
  if (input.user) filter.user = input.user;
  if (input.client) filter.client = input.client;
  if (input.session) filter.session = input.session;
  return { filter, input };
}

/** How many raw events one page may read while looking for matches of a client filter. */
const MAX_SCAN = 5_000;

/**
 * Events matching the filter, newest first, `limit` at most, from `cursor` on. The store filters
 * by type, user, session and since; `until` becomes the upper bound of the walk; the client is
 * matched here, so the next cursor is the last event read, never one past an unread match.
 */
export async function findAuditEvents(store: Store, org: string, filter: AuditFilter, options: { limit: number; cursor?: string }): Promise<{ items: AuditRecord[]; nextCursor?: string }> {
  let before = options.cursor ? decodeCursor(options.cursor) : undefined;
  if (filter.until) {
    const bound = `${Date.parse(filter.until) + 1}-0`;
    if (!before || compareIds(bound, before) < 0) before = bound;
  }
  const items: AuditRecord[] = [];
  let scanned = 0;
  let cursor = before ? encodeCursor(before) : undefined;
  while (items.length < options.limit && scanned < MAX_SCAN) {
    const page = await store.audit.query({
      org, limit: Math.min(200, filter.client ? 200 : options.limit - items.length),
      ...(filter.type ? { type: filter.type } : {}), ...(filter.user ? { user: filter.user } : {}), ...(filter.session ? { session: filter.session } : {}),
      ...(filter.since ? { since: filter.since } : {}), ...(cursor ? { cursor } : {}),
    });
    for (const e of page.items) {
      scanned++;
      cursor = encodeCursor(e.id);
      if (filter.client && e.client !== filter.client) continue;
      items.push(e);
      if (items.length === options.limit) return { items, nextCursor: cursor };
    }
    if (!page.nextCursor) return { items };
    cursor = page.nextCursor;
  }
  return { items, ...(cursor ? { nextCursor: cursor } : {}) };
}

/** An event's data as `key: value` pairs an admin reads; nested values are flattened with dots. */
export function detailPairs(data: Record<string, unknown> | undefined, prefix = ''): Array<{ key: string; value: string }> {
  const pairs: Array<{ key: string; value: string }> = [];
  for (const [key, value] of Object.entries(data ?? {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) pairs.push(...detailPairs(value as Record<string, unknown>, name));
    else pairs.push({ key: name, value: Array.isArray(value) ? value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ') : String(value) });
  }
  return pairs;
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a quote, comma or line break. A cell a
 * spreadsheet would run as a formula (= + - @, or a tab/CR first) gets a leading quote, so an
 * exported username like `=HYPERLINK(…)` stays text.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export const csvRow = (cells: string[]) => cells.map(csvCell).join(',');
