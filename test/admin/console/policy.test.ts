import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/chromium.ts';
import { signIn, startCurfew, type Harness } from '../../support/curfew.ts';
import { consoleSeed, screenshotPath, signInConsoleBrowser } from './console-sign-in.ts';

const MIN = 60_000;

/** The text of the error shown right after an input (its sibling), as the form places it. */
const errorBeside = (page: Page, inputId: string) => page.locator(`#${inputId} + p.field-error`);

/**
 * Issue 12: the console's policy page in Chromium — a form for the org limits and a rules
 * table, errors beside their fields with what was typed kept, a preview against live sessions
 * that changes nothing, and explain as a table.
 */
describe('the console policy form in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    h = await startCurfew('redis', { seed: consoleSeed() });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(5_000);
    await signInConsoleBrowser(h, page);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });
  const policy = async () => (await h.store.directory.getOrg('acme'))!.policy;
  const save = async () => {
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  };

  it('edits the org limits and saves them', async () => {
    await expect(page.getByLabel('Idle timeout (seconds)').inputValue()).resolves.toBe('900');
    await page.getByLabel('Idle timeout (seconds)').fill('600');
    await page.getByLabel('Warning before the end (seconds)').fill('60');
    await page.getByLabel('Authenticator (MFA)').selectOption('reentry');
    await page.getByLabel('Refresh grants are activity').check();
    await save();
    expect(await policy()).toMatchObject({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 43200, warningSeconds: 60, mfa: 'reentry', refreshIsActivity: true, rules: [] });
    // The saved form shows what was saved.
    await expect(page.getByLabel('Idle timeout (seconds)').inputValue()).resolves.toBe('600');
    await expect(page.getByLabel('Refresh grants are activity').isChecked()).resolves.toBe(true);
  });

  it('adds rules, edits, reorders and removes them', async () => {
    const addRule = async (n: number, fields: Record<string, string>) => {
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByLabel(`Name of rule ${n}`).waitFor();
      for (const [label, value] of Object.entries(fields)) await page.getByLabel(`${label} of rule ${n}`).fill(value);
    };
    await addRule(1, { Name: 'admins', Roles: 'admin', 'Idle timeout': '300' });
    await addRule(2, { Name: 'payments', Clients: 'acme-app', 'Idle timeout': '240', 'Absolute timeout': '3600' });
    await addRule(3, { Name: 'office', Networks: '10.20.0.0/16, 2001:db8::/32', 'Idle timeout': '1800' });
    // Adding a row kept what was typed in the others.
    await expect(page.getByLabel('Name of rule 1').inputValue()).resolves.toBe('admins');
    await page.getByRole('button', { name: 'Move rule 3 up' }).click();
    await expect(page.getByLabel('Name of rule 2').inputValue()).resolves.toBe('office');
    // The page comes back at the row moved, not at the top.
    expect(new URL(page.url()).hash).toBe('#rule-1');
    await expect(page.getByLabel('Networks of rule 2').inputValue()).resolves.toBe('10.20.0.0/16, 2001:db8::/32');
    // Nothing is saved until Save.
    expect((await policy()).rules).toEqual([]);
    await save();
    expect((await policy()).rules).toEqual([
      { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
      { name: 'office', match: { networks: ['10.20.0.0/16', '2001:db8::/32'] }, idleTimeoutSeconds: 1800 },
      { name: 'payments', match: { clients: ['acme-app'] }, idleTimeoutSeconds: 240, absoluteTimeoutSeconds: 3600 },
    ]);
    await page.screenshot({ path: screenshotPath('console-policy.png'), fullPage: true });

    // Edit one, move another down, remove the first: the table says the new order.
    await page.getByLabel('Refresh is activity for rule 3').selectOption('true');
    await page.getByRole('button', { name: 'Move rule 1 down' }).click();
    await expect(page.getByLabel('Name of rule 2').inputValue()).resolves.toBe('admins');
    await page.getByRole('button', { name: 'Remove rule 1' }).click();
    await expect(page.locator('tr.rule').count()).resolves.toBe(2);
    await save();
    expect((await policy()).rules).toEqual([
      { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
      { name: 'payments', match: { clients: ['acme-app'] }, idleTimeoutSeconds: 240, absoluteTimeoutSeconds: 3600, refreshIsActivity: true },
    ]);
  });

  it('shows a bad CIDR, an unknown role and idle > absolute each beside its field, keeping what was typed', async () => {
    const before = await policy();
    await page.getByLabel('Idle timeout (seconds)').fill('7200');
    await page.getByLabel('Absolute timeout (seconds)').fill('3600');
    await page.getByRole('button', { name: 'Add a rule' }).click();
    await page.getByLabel('Name of rule 3').fill('lab');
    await page.getByLabel('Networks of rule 3').fill('10.0.0.0/8, 10.0.0.0/99');
    await page.getByLabel('Idle timeout of rule 3').fill('900');
    await page.getByLabel('Roles of rule 1').fill('admin wizard');
    await page.getByLabel('Idle timeout of rule 2').fill('soon');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: 'not saved' }).waitFor();

    await expect(errorBeside(page, 'f-idleTimeoutSeconds').innerText()).resolves.toContain('must not exceed absoluteTimeoutSeconds');
    await expect(errorBeside(page, 'f-rules-2-networks').innerText()).resolves.toBe('"10.0.0.0/99" is not a valid CIDR');
    await expect(errorBeside(page, 'f-rules-0-roles').innerText()).resolves.toBe('unknown role "wizard"');
    await expect(errorBeside(page, 'f-rules-1-idleTimeoutSeconds').innerText()).resolves.toBe('must be a number of seconds');
    // A field that is right has no error; a wrong one says so to assistive technology.
    await expect(errorBeside(page, 'f-rules-2-name').count()).resolves.toBe(0);
    await expect(page.getByLabel('Networks of rule 3').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(page.getByLabel('Networks of rule 3').getAttribute('aria-describedby')).resolves.toBe('f-rules-2-networks-error');
    // Every value typed is still there.
    const values = {
      'Idle timeout (seconds)': '7200', 'Absolute timeout (seconds)': '3600', 'Name of rule 3': 'lab', 'Networks of rule 3': '10.0.0.0/8, 10.0.0.0/99',
      'Idle timeout of rule 3': '900', 'Roles of rule 1': 'admin wizard', 'Idle timeout of rule 2': 'soon', 'Clients of rule 2': 'acme-app', 'Warning before the end (seconds)': '60',
    };
    for (const [label, value] of Object.entries(values)) await expect(page.getByLabel(label, { exact: true }).inputValue(), label).resolves.toBe(value);
    await expect(page.getByLabel('Refresh is activity for rule 2').inputValue()).resolves.toBe('true');
    await page.screenshot({ path: screenshotPath('console-policy-errors.png'), fullPage: true });
    expect(await policy()).toEqual(before);

    // Fixed in the same form, it saves.
    await page.getByLabel('Idle timeout (seconds)').fill('600');
    await page.getByLabel('Absolute timeout (seconds)').fill('43200');
    await page.getByLabel('Networks of rule 3').fill('10.0.0.0/8');
    await page.getByLabel('Roles of rule 1').fill('admin');
    await page.getByLabel('Idle timeout of rule 2').fill('240');
    await save();
    expect((await policy()).rules.map((r) => r.name)).toEqual(['admins', 'payments', 'lab']);
  });

  it('explains as a table which rules matched, each limit and where it came from', async () => {
    await page.getByLabel('User', { exact: true }).fill('alice');
    await page.getByLabel('Client (optional)').fill('acme-app');
    await page.getByLabel('IP (optional)').fill('10.1.2.3');
    await page.getByRole('button', { name: 'Explain' }).click();
    const rows = page.locator('table.explain-limits tbody tr');
    await rows.first().waitFor();
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(cells).toEqual([
      // The lab network rule loosens idle to 15 min; the payments client rule tightens the app's.
      ['Browser session (SSO)', 'Idle', '15 min (900 s)', 'rule “lab”'],
      ['Browser session (SSO)', 'Absolute', '12 h (43200 s)', 'the org default'],
      ['App session (acme-app)', 'Idle', '4 min (240 s)', 'rule “payments”'],
      ['App session (acme-app)', 'Absolute', '1 h (3600 s)', 'rule “payments”'],
      ['App session (acme-app)', 'Refresh is activity', 'yes', 'rule “payments”'],
    ]);
    const matched = await page.locator('table.explain-rules tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    expect(matched).toEqual([
      ['payments', 'client acme-app', 'idle 4 min, absolute 1 h, refresh is activity: yes', 'app idle, app absolute, refresh is activity'],
      ['lab', '10.1.2.3 in 10.0.0.0/8', 'idle 15 min', 'SSO idle'],
    ]);
    await page.screenshot({ path: screenshotPath('console-policy-explain.png'), fullPage: true });

    // An unknown user is named beside its field, as is a bad IP.
    await page.getByLabel('User', { exact: true }).fill('nobody');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect(errorBeside(page, 'explain-user').innerText()).resolves.toBe('no such user in this organization');
    await page.getByLabel('User', { exact: true }).fill('alice');
    await page.getByLabel('IP (optional)').fill('10.1.2');
    await page.getByRole('button', { name: 'Explain' }).click();
    await expect(errorBeside(page, 'explain-ip').innerText()).resolves.toBe('is not an IP address');
    await expect(page.locator('#explain-result').count()).resolves.toBe(0);
  });
});

describe('the console policy preview in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let t0: number;
  const live = async () => (await h.curfew.sessions.list('acme')).length;
  beforeAll(async () => {
    h = await startCurfew('redis', { seed: consoleSeed() });
    t0 = await h.clock.now();
    // alice in two browsers, last active at t0 and t0 + 6 min; bob's console from t0 + 8 min.
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await h.clock.set(t0 + 6 * MIN);
    await signIn(h, h.userAgent(), 'acme-other', 'alice');
    await h.clock.set(t0 + 8 * MIN);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(5_000);
    await signInConsoleBrowser(h, page);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const preview = async () => {
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('heading', { name: /Preview/ }).waitFor();
    const rows = await page.locator('table.preview-sessions tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
    return { summary: await page.locator('#preview .summary strong').innerText(), rows };
  };

  it('counts against the live sessions what saving would do, ending a session whose new deadline is now, and changes nothing', async () => {
    // 1 ms before t0 + 10 min: the session idle since t0 + 6 min has 1 ms left under a 4 min idle.
    await h.clock.set(t0 + 10 * MIN - 1);
    await page.goto(`${h.url}/admin/policy`);
    const writes = async () => Promise.all((['policy.changed', 'admin.write', 'session.ended'] as const).map(async (type) => (await h.store.audit.query({ org: 'acme', type, limit: 100 })).items.length));
    const writesBefore = await writes();
    await page.getByLabel('Idle timeout (seconds)').fill('240');
    let shown = await preview();
    expect(shown.summary).toBe('2 sessions get shorter, 1 ends now');
    expect(shown.rows.map((r) => [r[0], r[2]])).toEqual([['alice', 'ends now'], ['alice', 'shorter'], ['bob (your console session)', 'shorter']]);
    // What was typed stays in the form.
    await expect(page.getByLabel('Idle timeout (seconds)').inputValue()).resolves.toBe('240');

    // At the deadline itself, that session ends too.
    await h.clock.set(t0 + 10 * MIN);
    shown = await preview();
    expect(shown.summary).toBe('1 session gets shorter, 2 end now');
    expect(shown.rows.map((r) => [r[0], r[2]])).toEqual([['alice', 'ends now'], ['alice', 'ends now'], ['bob (your console session)', 'shorter']]);
    await page.screenshot({ path: screenshotPath('console-policy-preview.png'), fullPage: true });

    // A preview changed nothing: the policy, the live sessions, the audit trail.
    expect((await h.store.directory.getOrg('acme'))!.policy.idleTimeoutSeconds).toBe(900);
    expect(await live()).toBe(3);
    expect(await writes()).toEqual(writesBefore);

    // Saving does what the preview said.
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await expect(page.getByRole('status').innerText()).resolves.toContain('2 sessions past a new deadline ended now');
    expect(await live()).toBe(1);
  });

  it('previews from the JSON view too, and refuses a bad policy there naming its fields', async () => {
    await page.getByRole('link', { name: 'JSON' }).click();
    const json = JSON.parse(await page.getByLabel('Policy (JSON)').inputValue()) as Record<string, unknown>;
    await page.getByLabel('Policy (JSON)').fill(JSON.stringify({ ...json, idleTimeoutSeconds: 180 }));
    const shown = await preview();
    expect(shown.summary).toBe('1 session gets shorter, 0 end now');
    await page.getByLabel('Policy (JSON)').fill(JSON.stringify({ ...json, idleTimeoutSeconds: 30, rules: [{ name: 'x', match: { networks: ['1.2.3.4/40'] }, idleTimeoutSeconds: 600 }] }));
    await page.getByRole('button', { name: 'Preview' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    await expect(alert.innerText()).resolves.toContain('rules.0.match.networks.0');
    await expect(alert.innerText()).resolves.toContain('idleTimeoutSeconds');
    await expect(page.locator('#preview').count()).resolves.toBe(0);
    // The JSON typed is kept, as typed.
    await expect(page.getByLabel('Policy (JSON)').inputValue()).resolves.toContain('1.2.3.4/40');
  });
});
