import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/chromium.ts';
import { signIn, startCurfew, type Harness } from '../../support/curfew.ts';
import { consoleSeed, screenshotPath, signInConsoleBrowser } from './console-sign-in.ts';

const MIN = 60_000;
const basic = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;

/** SPEC §10 in the console: one session's story, in order, readable, linked from the sessions list. */
describe('the console\'s session timeline (Chromium)', () => {
  let h: Harness;
  beforeAll(async () => {
    const seed = consoleSeed();
    h = await startCurfew('memory', { seed });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows a session\'s start with its limits, its warning and its end, in order; only for the admin\'s own org', async () => {
    const t0 = await h.clock.now();
    const alice = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const carol = await signIn(h, h.userAgent(), 'globex-app', 'carol');
    await h.clock.set(t0 + 13 * MIN + 1000);
    await fetch(`${h.url}/session/status?sid=${encodeURIComponent(alice.claims.sid as string)}`, { headers: { authorization: basic } });

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      await signInConsoleBrowser(h, page);

      await page.getByRole('link', { name: 'Sessions' }).click();
      await page.getByRole('link', { name: 'Timeline of the session of alice' }).click();
      await page.getByRole('heading', { name: 'Session timeline' }).waitFor();
      const items = () => page.locator('ol.timeline li').allInnerTexts();
      const story = await items();
      expect(story[0]).toMatch(/session\.started.*Signed in: idle limit 15 min \(default\), absolute limit 12 h \(default\)/);
      expect(story[1]).toMatch(/session\.started.*Started using acme-app: .*refreshes do not count as activity \(default\)/);
      expect(story[2]).toMatch(/session\.warned.*Warning shown in acme-app: 119 s left/);
      const url = page.url();

      // The story outlives the session: revoked, its end is told too.
      const [session] = (await h.curfew.sessions.list('acme', {})).filter((s) => s.rps['acme-app']?.sid === alice.claims.sid);
      await h.curfew.sessions.end(session!.id, 'admin');
      await page.goto(url);
      const ended = await items();
      expect(ended.at(-1)).toMatch(/session\.ended.*Ended \(admin\): last active .*, idle for 13 min\. Activity: none recorded\./);
      await page.screenshot({ path: screenshotPath('console-timeline.png'), fullPage: true });

      // Another org's session is not found from this org's console.
      const [other] = await h.curfew.sessions.list('globex');
      expect(other?.rps['globex-app']?.sid).toBe(carol.claims.sid);
      const res = await page.goto(`${h.url}/admin/sessions/${other!.id}/timeline`);
      expect(res?.status()).toBe(404);
    } finally {
      await browser.close();
    }
  });
});
