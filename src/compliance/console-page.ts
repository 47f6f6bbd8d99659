import { ValidationError } from '../errors.ts';
import { parseReportRequest } from './period.ts';
import { reportSections } from './report-view.ts';
import type { Compliance } from './routes.ts';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The console's period picker works in whole days, the last one included: `until=2030-01-31`
 * means to the end of that day. Everything else is the API's report, as the API shows it.
 */
export async function compliancePageData(compliance: Compliance, org: string, query: Record<string, unknown>, nowMs: number) {
  // Without a choice: the 30 whole days up to the end of today (UTC).
  const endOfToday = new Date(Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS).toISOString();
  const until = typeof query.until === 'string' && DATE.test(query.until) && !Number.isNaN(Date.parse(query.until))
    ? new Date(Date.parse(query.until) + DAY_MS).toISOString()
    : query.until === undefined || query.until === '' ? endOfToday : query.until;
  const links = (since: string, untilIso: string) => {
    const q = (format: string) => `/admin/api/v1/orgs/${encodeURIComponent(org)}/compliance?${new URLSearchParams({ since, until: untilIso, format })}`;
    return { json: q('json'), html: q('html'), pdf: q('pdf') };
  };
  try {
    const request = parseReportRequest({ since: query.since, until }, nowMs);
    const report = await compliance.report(org, request);
    return {
      data: {
        report, sections: reportSections(report), errors: [], progress: compliance.controlTest.progress(org),
        sinceDate: request.since.slice(0, 10),
        untilDate: new Date(Date.parse(request.until) - 1).toISOString().slice(0, 10),
        links: links(request.since, request.until),
      },
    };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const since = typeof query.since === 'string' ? query.since : '';
    return { refusal: 'invalid_request' as const, data: { progress: compliance.controlTest.progress(org), report: undefined, sections: [], errors: err.fields, sinceDate: since, untilDate: typeof query.until === 'string' ? query.until : '', links: links(since, String(until ?? '')) } };
  }
}
