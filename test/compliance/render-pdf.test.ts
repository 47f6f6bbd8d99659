import { describe, expect, it } from 'vitest';
import { renderPdf } from '../../src/compliance/render-pdf.ts';
import { complianceReport, type ReportInput } from '../../src/compliance/report.ts';
import { policy } from '../support/operations.ts';

function report(deadLetters: number) {
  const events: ReportInput['events'] = Array.from({ length: deadLetters }, (_, i) => ({
    id: `${Date.UTC(2030, 0, 10) + i}-0`, at: new Date(Date.UTC(2030, 0, 10) + i).toISOString(), type: 'backchannel.dead' as const, org: 'acme', client: 'wiki',
    data: { delivery: `d-${i}`, attempt: 8, error: 'HTTP 500' },
  }));
  return complianceReport({
    org: { id: 'acme', name: 'Acme Corp' }, period: { since: '2030-01-01T00:00:00.000Z', until: '2030-01-31T00:00:00.000Z' }, generatedAt: '2030-02-01T00:00:00.000Z',
    currentPolicy: policy(), laterPolicyChanges: [], syntheticUsers: [], events,
  });
}
const pages = (pdf: Buffer) => pdf.toString('latin1').match(/\/Type \/Page\b/g)?.length ?? 0;

describe('the printable compliance report', () => {
  it('is a complete PDF titled for the org and period', async () => {
    const pdf = await renderPdf(report(0));
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    expect(text).toMatch(/\/Title (\d+) 0 R/);
    expect(text).toContain('(Compliance evidence: Acme Corp)');
    expect(text).toContain('(2030-01-01T00:00:00.000Z to 2030-01-31T00:00:00.000Z)');
    expect(pages(pdf)).toBe(1);
  });

  it('runs a long table onto further A4 pages rather than cutting it', async () => {
    const pdf = await renderPdf(report(200));
    expect(pages(pdf)).toBeGreaterThan(2);
    expect(pdf.toString('latin1')).toMatch(/\/MediaBox \[0 0 595\.28 841\.89\]/);
  });
});
