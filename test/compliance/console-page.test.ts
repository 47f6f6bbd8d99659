import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { consoleSeed, screenshotPath, signInConsoleBrowser } from '../admin/console/console-sign-in.ts';

const MIN = 60_000;

/** SPEC §13 in a real browser: an admin reads the evidence for a period and runs the control test. */
describe('the compliance page of the console in Chromium', () => {
  let h: Harness;
  beforeAll(async () => {
    const seed = consoleSeed();
    h = await startCurfew('memory', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows the period\'s figures, validates the period, and runs the control test on a click', async () => {
    const t0 = await h.clock.now();
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await h.clock.set(t0 + 16 * MIN);
    await h.curfew.sweeper.tick();

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      await signInConsoleBrowser(h, page);

      await page.getByRole('link', { name: 'Compliance' }).click();
      await page.getByRole('heading', { name: 'Compliance evidence' }).waitFor();
      const row = (label: string) => page.locator('tr', { has: page.locator('th', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) }).locator('td');
      // Alice's session (and the console's own) started; hers ended idle, 60 s after its deadline.
      await expect(row('ended: idle').textContent()).resolves.toBe('1');
      await expect(row('Idle lateness p50 / p99 / max').textContent()).resolves.toBe('60000 ms / 60000 ms / 60000 ms');

      // A period that ends before it starts is named, not a 500.
      await page.getByLabel('From').fill('2030-02-01');
      await page.getByLabel('to', { exact: true }).fill('2030-01-01');
      await page.getByRole('button', { name: 'Show' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('must be before until');

      // The control test, on a click: it waits on the shared clock, which the test moves.
      await page.goto(`${h.url}/admin/compliance`);
      await page.getByRole('button', { name: 'Run the control test now' }).click();
      await page.getByRole('status').filter({ hasText: 'The control test is running' }).waitFor();
      let deadline: number | undefined;
      for (let i = 0; i < 200 && deadline === undefined; i++) {
        const p = h.curfew.compliance.controlTest.progress('acme');
        if (p?.phase === 'waiting_for_deadline' && p.deadline) deadline = Date.parse(p.deadline);
        else await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(deadline).toBeDefined();
      await h.clock.set(deadline! + 30);
      for (let i = 0; i < 200 && h.curfew.compliance.controlTest.isRunning('acme'); i++) {
        await h.curfew.sender.tick();
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await page.goto(`${h.url}/admin/compliance`);
      await expect(row('Passed').textContent()).resolves.toBe('1');
      await expect(page.locator('table.audit td', { hasText: 'PASS' }).count()).resolves.toBe(1);

      // The downloads are the API's, reachable with the console's own session.
      const json = await page.evaluate(async (href) => (await fetch(href)).json(), (await page.getByRole('link', { name: 'JSON' }).getAttribute('href')) ?? '');
      expect(json).toMatchObject({ controlTests: { runs: 1, passed: 1 }, sessions: { ended: { byReason: { idle: 1 } } } });
      const pdf = await page.evaluate(async (href) => {
        const res = await fetch(href);
        return { type: res.headers.get('content-type'), head: new TextDecoder().decode((await res.arrayBuffer()).slice(0, 5)) };
      }, (await page.getByRole('link', { name: 'PDF' }).getAttribute('href')) ?? '');
      expect(pdf).toEqual({ type: 'application/pdf', head: '%PDF-' });
      await page.screenshot({ path: screenshotPath('compliance.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
