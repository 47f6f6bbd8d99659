import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDeliveryError, describeEndReason } from '../../../src/admin/console/delivery-view.ts';
import { signIn, startCurfew, type Harness } from '../../support/curfew.ts';
import { RpReceiver } from '../../support/rp-receiver.ts';
import type { UserAgent } from '../../support/user-agent.ts';
import { launchChromium } from '../../support/chromium.ts';
import { consoleSeed, screenshotPath, signInConsole, signInConsoleBrowser } from './console-sign-in.ts';

describe('a delivery error in words', () => {
  it('says what the app answered and whether it is retried', () => {
    expect(describeDeliveryError('HTTP 503')).toBe('The app answered 503: it is unavailable (retried later).');
    expect(describeDeliveryError('HTTP 404')).toBe('The app answered 404: nothing is at that URI (not retried: fix the app or its URI, then retry).');
    expect(describeDeliveryError('HTTP 429')).toBe('The app answered 429: it asked to slow down (retried later).');
    expect(describeDeliveryError('HTTP 599')).toBe('The app answered 599: the app failed (retried later).');
  });
  it('names network failures, and keeps the sender\'s own sentences', () => {
    expect(describeDeliveryError('ECONNREFUSED')).toBe('Nothing listens at that address: the connection was refused (retried later).');
    expect(describeDeliveryError('the client has no backchannel_logout_uri any more')).toBe('The client has no backchannel_logout_uri any more.');
    expect(describeDeliveryError(undefined)).toBe('');
  });
  it('says why the session ended', () => {
    expect(describeEndReason('idle')).toBe('idle timeout');
    expect(describeEndReason('something-new')).toBe('something-new');
  });
});

/** Issue 12 item 2: deliveries with their target, attempts, next attempt and last error; tabs that show where you are. */
describe('the console deliveries page', () => {
  let h: Harness;
  let rp: RpReceiver;
  let ua: UserAgent;
  const rows = (html: string) => html.split('<tbody>')[1]?.split('</tbody>')[0]?.split('<tr data-delivery=').slice(1) ?? [];
  beforeAll(async () => {
    rp = new RpReceiver();
    await rp.start();
    const seed = consoleSeed();
    (seed.orgs[0]!.clients[0] as Record<string, unknown>).backchannel_logout_uri = rp.uri('acme-app');
    h = await startCurfew('memory', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    rp.trust(h.url, `${h.url}/jwks`);
    ua = h.userAgent();
    await signInConsole(h, ua);
    const end = async (status: number) => {
      rp.behaviour.set('acme-app', status);
      const alice = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const [session] = await h.curfew.sessions.list('acme', { user: String(alice.claims.sub) });
      await h.curfew.sessions.end(session!.id, 'admin');
      await h.curfew.sweeper.tick();
      await h.curfew.sender.tick();
    };
    await end(503);
    await end(404);
  });
  afterAll(async () => {
    await h?.close();
    await rp?.close();
  });

  it('lists a pending delivery with its target URI, attempts, next attempt as a countdown and the error in words', async () => {
    const page = await ua.request(`${h.url}/admin/deliveries`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<a href="/admin/deliveries?state=pending" aria-current="page">Pending (1)</a>');
    expect(page.html).toContain('<a href="/admin/deliveries?state=dead">Dead letters (1)</a>');
    const [pending] = await h.store.deliveries.list('acme', 'pending');
    const [row, ...rest] = rows(page.html);
    expect(rest).toEqual([]);
    expect(row).toContain(`<code class="uri">${rp.uri('acme-app')}</code>`);
    expect(row).toContain('<td>1</td>');
    expect(row).toContain(`data-until="${new Date(pending!.nextAttemptAt).toISOString()}"`);
    expect(row).toContain('title="HTTP 503">The app answered 503: it is unavailable (retried later).');
    expect(row).toContain('revoked by an admin');
    expect(row).toContain('>alice</a>');
    expect(row).not.toContain('/retry');
    expect(page.html).toMatch(/data-now="[^"]+Z"/);
  });

  it('shows dead letters on their own tab, marked as current, with a retry that confirms', async () => {
    const page = await ua.request(`${h.url}/admin/deliveries?state=dead`);
    expect(page.html).toContain('<a href="/admin/deliveries?state=dead" aria-current="page">Dead letters (1)</a>');
    expect(page.html).not.toContain('state=pending" aria-current');
    const [row, ...rest] = rows(page.html);
    expect(rest).toEqual([]);
    expect(row).toContain('The app answered 404: nothing is at that URI (not retried: fix the app or its URI, then retry).');
    expect(row).toMatch(/<form method="post" action="\/admin\/deliveries\/[^"]+\/retry" data-confirm="Send this logout token to [^"]+ again\?">/);
  });

  it('in Chromium: the tab you are on is marked, the next attempt counts down', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      await signInConsoleBrowser(h, page);
      await page.getByRole('link', { name: 'Deliveries' }).click();
      await page.getByRole('heading', { name: 'Back-channel deliveries' }).waitFor();
      const tabs = page.getByRole('navigation', { name: 'Delivery state' });
      await expect(tabs.locator('[aria-current="page"]').innerText()).resolves.toBe('Pending (1)');
      await expect.poll(() => page.locator('tbody .countdown').innerText()).toMatch(/^(in \d+:\d\d|due now)$/);
      await page.screenshot({ path: screenshotPath('console-deliveries.png'), fullPage: true });
      await tabs.getByRole('link', { name: /Dead letters/ }).click();
      await expect(tabs.locator('[aria-current="page"]').innerText()).resolves.toBe('Dead letters (1)');
      await page.getByText('The app answered 404').waitFor();
    } finally {
      await browser.close();
    }
  });
});
