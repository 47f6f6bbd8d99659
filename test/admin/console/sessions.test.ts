import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/chromium.ts';
import { signIn, startCurfew, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';
import { consoleSeed, signInConsole, signInConsoleBrowser } from './console-sign-in.ts';

const MIN = 60_000;

/** Issue 12 item 2: live sessions with countdowns, per user and per client. */
describe('the console sessions page', () => {
  let h: Harness;
  let ua: UserAgent;
  let t0: number;
  const rows = (html: string) => html.split('<tbody>')[1]?.split('</tbody>')[0]?.split('<tr data-session=').slice(1) ?? [];
  beforeAll(async () => {
    h = await startCurfew('memory', { seed: consoleSeed() });
    t0 = await h.clock.now();
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await signIn(h, h.userAgent(), 'acme-other', 'alice');
    // The server's clock runs 10 minutes ahead of the browser's from here on.
    await h.clock.set(t0 + 10 * MIN);
    ua = h.userAgent();
    await signInConsole(h, ua);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows each session\'s idle and absolute end, for the countdown', async () => {
    const page = await ua.request(`${h.url}/admin/sessions?user=alice`);
    const list = rows(page.html);
    expect(list).toHaveLength(2);
    const live = await h.curfew.sessions.list('acme', { user: (await h.store.directory.findUserByName('acme', 'alice'))!.id });
    for (const s of live) {
      const row = list.find((r) => r.startsWith(`"${s.id}"`)) ?? '';
      expect(row).toContain(`data-until="${new Date(s.lastActiveAt + s.idleSeconds * 1000).toISOString()}"`);
      expect(row).toContain(`data-until="${new Date(s.signedInAt + s.absoluteSeconds * 1000).toISOString()}"`);
    }
    expect(page.html).toContain(`data-now="${new Date(await h.clock.now()).toISOString()}"`);
  });

  it('filters by client: only sessions with a live session of that app', async () => {
    const byApp = rows((await ua.request(`${h.url}/admin/sessions?client=acme-other`)).html);
    expect(byApp).toHaveLength(1);
    expect(byApp[0]).toContain('<td>acme-other</td>');
    expect(rows((await ua.request(`${h.url}/admin/sessions?client=acme-app&user=alice`)).html)).toHaveLength(1);
    expect(rows((await ua.request(`${h.url}/admin/sessions?user=nobody`)).html)).toEqual([]);
  });

  it('counts down in Chromium on the server\'s clock, not the browser\'s, and revokes after confirming', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      // In a new time step: the HTTP sign-in above spent this step's code (no replay).
      await signInConsoleBrowser(h, page);
      await page.goto(`${h.url}/admin/sessions?client=acme-other`);
      const row = page.locator('tbody tr');
      await expect(row.count()).resolves.toBe(1);
      // acme-other's sessions idle out after 15 min of the SSO's limits, signed in at t0: 5 min
      // left on the server's clock (15 on the browser's, which is 10 min behind).
      const idle = row.locator('.countdown').first();
      await expect.poll(() => idle.innerText()).toMatch(/^in [45]:\d\d$/);
      // Declining the confirmation revokes nothing.
      page.once('dialog', (d) => void d.dismiss());
      await row.getByRole('button', { name: /Revoke/ }).click();
      await expect(page.locator('tbody tr').count()).resolves.toBe(1);
      page.once('dialog', (d) => void d.accept());
      await row.getByRole('button', { name: /Revoke/ }).click();
      await page.getByRole('status').filter({ hasText: 'The session was revoked' }).waitFor();
      await expect(page.locator('tbody tr').filter({ hasText: 'acme-other' }).count()).resolves.toBe(0);
    } finally {
      await browser.close();
    }
  });
});
