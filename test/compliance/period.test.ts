import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { parseReportRequest } from '../../src/compliance/period.ts';

const NOW = Date.parse('2030-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const fields = (query: Record<string, unknown>) => {
  try {
    parseReportRequest(query, NOW);
  } catch (err) {
    if (err instanceof ValidationError) return err.fields.map((f) => f.field);
    throw err;
  }
  return [];
};

describe('the report period', () => {
  it('defaults to the 30 days up to now, as JSON', () => {
    expect(parseReportRequest({}, NOW)).toEqual({ since: new Date(NOW - 30 * DAY).toISOString(), until: new Date(NOW).toISOString(), format: 'json' });
  });
  it('with only since: 30 days from it, never past now', () => {
    expect(parseReportRequest({ since: '2030-01-01' }, NOW).until).toBe('2030-01-31T00:00:00.000Z');
    expect(parseReportRequest({ since: '2030-06-01' }, NOW).until).toBe(new Date(NOW).toISOString());
  });
  it('with only until: the 30 days before it', () => {
    expect(parseReportRequest({ until: '2030-02-01T00:00:00Z' }, NOW).since).toBe('2030-01-02T00:00:00.000Z');
  });
  it('takes dates and instants with a zone, normalised to UTC', () => {
    expect(parseReportRequest({ since: '2030-01-01T02:00:00+02:00', until: '2030-01-02T00:00:00.5Z', format: 'pdf' }, NOW)).toEqual({ since: '2030-01-01T00:00:00.000Z', until: '2030-01-02T00:00:00.500Z', format: 'pdf' });
  });
  it('names every bad field at once', () => {
    expect(fields({ since: 'last week', until: '2030-01-01T00:00:00', format: 'csv' })).toEqual(['since', 'until', 'format']);
    expect(fields({ since: ['2030-01-01', '2030-01-02'] })).toEqual(['since']);
    expect(fields({ since: '2030-02-30' })).toEqual(['since']);
    expect(fields({ since: '2030-01-01T24:30Z' })).toEqual(['since']);
    expect(fields({ since: '2028-02-29' })).toEqual([]);
  });
  it('since must be before until, and the period at most 366 days', () => {
    expect(fields({ since: '2030-01-01', until: '2030-01-01' })).toEqual(['since']);
    expect(fields({ since: '2029-01-01', until: '2030-01-02T00:00:00.001Z' })).toEqual(['until']);
    expect(fields({ since: '2029-01-01', until: '2030-01-02' })).toEqual([]);
  });
});
