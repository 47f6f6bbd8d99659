import PDFDocument from 'pdfkit';
import type { ComplianceReport } from './report.ts';
import { reportSections } from './report-view.ts';

/**
 * The printable report (pdfkit, its built-in Helvetica): the same sections and strings as the
 * HTML page, laid out for A4, one row per line, tables as wrapped rows.
 */
export function renderPdf(report: ComplianceReport): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4', margin: 50, info: { Title: `Compliance evidence: ${report.org.name}`, Author: 'Curfew', Subject: `${report.period.since} to ${report.period.until}` } });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const width = doc.page.width - 100;
  doc.font('Helvetica-Bold').fontSize(18).text('Compliance evidence');
  doc.font('Helvetica').fontSize(10).moveDown(0.3)
    .text(`Organization: ${report.org.name} (${report.org.id})`)
    .text(`Period: ${report.period.since} to ${report.period.until}`)
    .text(`Generated: ${report.generatedAt} by Curfew from the organization's audit stream`);
  for (const section of reportSections(report)) {
    doc.moveDown(0.8).font('Helvetica-Bold').fontSize(13).text(section.title, { width });
    doc.moveDown(0.2).fontSize(10);
    for (const [label, value] of section.rows) {
      const y = doc.y;
      doc.font('Helvetica').text(label, 50, y, { width: width * 0.55 });
      const after = doc.y;
      doc.font('Helvetica-Bold').text(value, 50 + width * 0.57, y, { width: width * 0.43 });
      doc.y = Math.max(after, doc.y);
      doc.x = 50;
    }
    if (section.note) doc.moveDown(0.2).font('Helvetica-Oblique').text(section.note, { width });
    if (section.table && section.table.rows.length > 0) {
      doc.moveDown(0.3).font('Helvetica-Bold').fontSize(9).text(section.table.head.join(' | '), { width });
      doc.font('Helvetica');
      for (const row of section.table.rows) doc.text(row.join(' | '), { width });
      doc.fontSize(10);
    }
  }
  doc.end();
  return done;
}
