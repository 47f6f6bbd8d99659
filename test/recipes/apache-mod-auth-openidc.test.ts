import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import type { Policy } from '../../src/sessions/policy-types.ts';
import { PASSWORDS, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../support/chromium.ts';
import { until } from '../support/wait.ts';

const APACHE = process.env.APACHE2_PATH ?? '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const S = 1000;
const SECRET = 'apache-app-secret-0123456789';
const TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The recipe's Apache configuration (README), with this test's ports and paths. */
function apacheConfig(dir: string, port: number, curfew: string): string {
  const app = `http://127.0.0.1:${port}`;
  return `
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${dir}/httpd.pid"
ErrorLog "${dir}/error.log"
# debug: the test reads mod_auth_openidc's account of the back-channel logout.
LogLevel warn auth_openidc:debug
LoadModule mpm_event_module ${MODULES}/mod_mpm_event.so
LoadModule authn_core_module ${MODULES}/mod_authn_core.so
LoadModule authz_core_module ${MODULES}/mod_authz_core.so
LoadModule authz_user_module ${MODULES}/mod_authz_user.so
LoadModule auth_openidc_module ${MODULES}/mod_auth_openidc.so
DocumentRoot "${dir}/htdocs"

OIDCProviderMetadataURL ${curfew}/.well-known/openid-configuration
OIDCClientID apache-app
OIDCClientSecret ${SECRET}
OIDCRedirectURI ${app}/app/redirect_uri
OIDCCryptoPassphrase a-long-random-passphrase-for-the-test-0123456789
OIDCScope "openid"
OIDCPKCEMethod S256
# Refresh the access token on each request of the user (Curfew's access tokens never outlive
# the session; a refresh happens only when the user navigates): the refreshes are activity.
OIDCRefreshAccessTokenBeforeExpiry 86400 logout_on_error
# Curfew decides when the session is idle; Apache's own timer must not end it first.
OIDCSessionInactivityTimeout 86400
OIDCSessionMaxDuration 0
<Location /app>
  AuthType openid-connect
  Require valid-user
</Location>
`;
}

/**
 * The Apache recipe with Debian's mod_auth_openidc, unmodified: its refreshes happen only while
 * its user navigates, so a client rule makes them activity. A user clicking every few seconds
 * stays signed in past the idle limit; a user who stops gets the back-channel logout at the
 * deadline and TOTP at re-entry; without the rule the same refreshes extend nothing.
 *
 * Curfew's controllable clock moves only Curfew's time; mod_auth_openidc keeps the real clock
 * for its own token expiry. So Apache refreshes on every request (OIDCRefreshAccessTokenBeforeExpiry
 * longer than any access token) and never times out by itself: every decision is Curfew's.
 */
describe('recipe: Apache mod_auth_openidc', () => {
  let h: Harness;
  let dir: string;
  let apache: ChildProcess;
  let app: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(APACHE) || !existsSync(`${MODULES}/mod_auth_openidc.so`)) {
      throw new Error(`Apache with mod_auth_openidc not found: install Debian's apache2 and libapache2-mod-auth-openidc (bash .ci/run does)`);
    }
    const port = await freePort();
    app = `http://127.0.0.1:${port}`;
    const seed = testSeed();
    const org = seed.orgs[0]!;
    org.policy = {
      idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 3600, warningSeconds: 20, mfa: 'reentry',
      rules: [{ name: 'apache-navigation', match: { clients: ['apache-app'] }, refreshIsActivity: true }],
    } as unknown as typeof org.policy;
    (org.users.find((u) => u.username === 'alice') as Record<string, unknown>).totpSecret = TOTP;
    org.clients.push({
      client_id: 'apache-app', client_secret: SECRET, redirect_uris: [`${app}/app/redirect_uri`], post_logout_redirect_uris: [`${app}/`],
      backchannel_logout_uri: `${app}/app/redirect_uri?logout=backchannel`,
    } as never);
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });

    dir = mkdtempSync(join(tmpdir(), 'curfew-apache-'));
    mkdirSync(join(dir, 'htdocs', 'app'), { recursive: true });
    writeFileSync(join(dir, 'htdocs', 'app', 'page.html'), '<!doctype html><title>App</title><p>Inside the app</p>\n');
    writeFileSync(join(dir, 'httpd.conf'), apacheConfig(dir, port, h.url));
    apache = spawn(APACHE, ['-X', '-f', join(dir, 'httpd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    apache.stdout?.on('data', (c) => (output += c));
    apache.stderr?.on('data', (c) => (output += c));
    await until('Apache to listen', async () => {
      if (apache.exitCode !== null) throw new Error(`apache2 exited: ${output}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
      return fetch(`${app}/`).then(() => true, () => false);
    }, 10_000);
    // A real browser: mod_auth_openidc tells navigations from scripted requests by Sec-Fetch-Mode.
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(5_000);
  });
  afterAll(async () => {
    await browser?.close();
    if (apache && apache.exitCode === null) {
      apache.kill('SIGTERM');
      await new Promise((r) => apache.once('exit', r));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  const session = async () => (await h.curfew.sessions.list('acme')).find((s) => s.rps['apache-app']?.endedAt === undefined && s.rps['apache-app']);
  const rpActiveAt = async () => (await session())?.rps['apache-app']?.lastActiveAt;
  const errorLog = () => readFileSync(join(dir, 'error.log'), 'utf8').slice(-3000);
  /** One click in the app: true if the app's page showed, false if the user was sent to sign in. */
  let clicks = 0;
  const click = async (): Promise<boolean> => {
    // A new URL per click: a navigation the browser cannot answer from its cache.
    const url = `${app}/app/page.html?click=${++clicks}`;
    await page.goto(url);
    return page.url() === url && (await page.content()).includes('Inside the app');
  };

  async function signIn(withCode: boolean) {
    expect(await click(), errorLog()).toBe(false);
    expect(page.url().startsWith(`${h.url}/`)).toBe(true);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (withCode) {
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      h.totp.advance(30_000);
      await page.getByLabel('Verification code').fill(await totpCode(TOTP, h.totp.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.getByText('Inside the app').waitFor().catch(async (err: unknown) => {
      throw new Error(`${String(err)} at ${page.url()}: ${(await page.content()).slice(0, 500)}\n${errorLog()}`);
    });
  }

  it('keeps a user who clicks every few seconds signed in past the idle limit (each click refreshes)', async () => {
    await signIn(false);
    const start = (await rpActiveAt())!;
    for (let t = 5; t <= 90; t += 5) {
      await h.clock.set(start + t * S);
      await h.curfew.sweeper.tick();
      expect(await click(), errorLog()).toBe(true);
      expect(await rpActiveAt()).toBe(start + t * S);
    }
  });

  it('sends the back-channel logout to Apache at the deadline when the user stops; TOTP at re-entry', async () => {
    const last = (await rpActiveAt())!;
    const sid = (await session())!.rps['apache-app']!.sid;
    await h.clock.set(last + 60 * S - 1);
    await h.curfew.sweeper.tick();
    expect((await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items).toHaveLength(0);
    await h.clock.set(last + 60 * S);
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
    const delivered = (await h.store.audit.query({ org: 'acme', type: 'backchannel.delivered', limit: 1 })).items[0];
    expect(delivered, errorLog()).toMatchObject({ client: 'apache-app' });
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items[0]!;
    expect(ended.data).toMatchObject({ reason: 'idle', lateMs: 0, lastActiveAt: new Date(last).toISOString() });
    // mod_auth_openidc verified the logout token and dropped the session it names (its debug log
    // says so); the next click goes to Curfew, which asks for TOTP.
    expect(readFileSync(join(dir, 'error.log'), 'utf8')).toContain(`oidc_cleanup_by_sid: enter (sid=${sid},`);
    await signIn(true);
  });

  it('without the client rule, the same refreshes are passive: clicks do not extend the session', async () => {
    const org = (await h.store.directory.getOrg('acme'))!;
    await h.curfew.changePolicy('acme', { ...org.policy, rules: [] } as Policy, 'test');
    const start = (await rpActiveAt())!;
    for (let t = 10; t < 60; t += 10) {
      await h.clock.set(start + t * S);
      expect(await click(), errorLog()).toBe(true);
      expect(await rpActiveAt()).toBe(start);
    }
    await h.clock.set(start + 60 * S);
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items[0]!;
    expect(ended.data).toMatchObject({ reason: 'idle', lastActiveAt: new Date(start).toISOString() });
    expect(await click()).toBe(false);
  });
});
