import { ValidationError } from '../errors.ts';

export const DEFAULT_PERIOD_DAYS = 30;
export const MAX_PERIOD_DAYS = 366;
const DAY_MS = 86_400_000;
/** ISO 8601 instants and dates: 2030-01-31, 2030-01-31T12:00Z, 2030-01-31T12:00:00.000+02:00. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** Date.parse rolls 2030-02-30 over to March; a date that is not on the calendar is a mistake. */
function realCalendarDate(raw: string): boolean {
  const [y = 0, m = 0, d = 0] = raw.slice(0, 10).split('-').map(Number);
  const time = /T(\d{2}):(\d{2})/.exec(raw);
  const timeOk = !time || (Number(time[1]) < 24 && Number(time[2]) < 60);
  return m >= 1 && m <= 12 && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate() && timeOk;
}

const FORMATS = ['json', 'html', 'pdf'] as const;
export type ReportFormat = (typeof FORMATS)[number];
export interface ReportRequest {
  since: string;
  until: string;
  format: ReportFormat;
}

/**
 * Parses `since`, `until` and `format` of a report request; defaults to the last 30 days up to
 * `now`. Every bad field is named at once (a 400 with `fields`), never a 500.
 */
export function parseReportRequest(query: Record<string, unknown>, nowMs: number): ReportRequest {
  const errors: { field: string; message: string }[] = [];
  const instant = (name: 'since' | 'until'): number | undefined => {
    const raw = query[name];
    if (raw === undefined || raw === '') return undefined;
    if (typeof raw !== 'string' || !ISO.test(raw) || !realCalendarDate(raw) || Number.isNaN(Date.parse(raw))) {
      errors.push({ field: name, message: 'must be an ISO 8601 date or instant with a time zone, e.g. 2030-01-31 or 2030-01-31T12:00:00Z' });
      return undefined;
    }
    return Date.parse(raw);
  };
  const sinceIn = instant('since');
  const untilIn = instant('until');
  const formatIn = query.format ?? 'json';
  const format = FORMATS.find((f) => f === formatIn);
  if (!format) errors.push({ field: 'format', message: 'must be json, html or pdf' });
  const until = untilIn ?? (sinceIn !== undefined ? Math.min(nowMs, sinceIn + DEFAULT_PERIOD_DAYS * DAY_MS) : nowMs);
  const since = sinceIn ?? until - DEFAULT_PERIOD_DAYS * DAY_MS;
  if (errors.length === 0) {
    if (since >= until) errors.push({ field: 'since', message: 'must be before until' });
    else if (until - since > MAX_PERIOD_DAYS * DAY_MS) errors.push({ field: 'until', message: `the period may be at most ${MAX_PERIOD_DAYS} days` });
  }
  if (errors.length || !format) throw new ValidationError(errors, 'the report period is invalid');
  return { since: new Date(since).toISOString(), until: new Date(until).toISOString(), format };
}
