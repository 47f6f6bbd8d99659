import { execFileSync } from 'node:child_process';
import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import type { ComplianceReport } from '../../src/compliance/report.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, RP_CALLBACK, RP_LOGGED_OUT, signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const iso = (ms: number) => new Date(ms).toISOString();

function seed() {
  const s = testSeed();
  const bob = s.orgs[0]!.users.find((u) => u.username === 'bob')! as Record<string, unknown>;
  bob.totpSecret = BOB_SECRET;
  // Its receiver never answers: its logout tokens are dead letters after one attempt.
  (s.orgs[0]!.clients as Record<string, unknown>[]).push({
    client_id: 'acme-gone', client_secret: 'acme-gone-secret-0123456789', redirect_uris: [RP_CALLBACK], post_logout_redirect_uris: [RP_LOGGED_OUT],
    backchannel_logout_uri: 'http://127.0.0.1:9/backchannel',
  });
  return s;
}

describe.each(STORE_KINDS)('compliance evidence (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start() {
    h = await startCurfew(kind, {
      seed: seed(),
      config: { 'backchannel.allowlist': ['http://127.0.0.1:*'], 'backchannel.maxAttempts': 1, 'compliance.controlTestAnnounceSeconds': 3 },
    });
    // A fresh token per call: the tests move the clock past a token's lifetime.
    const call = async (method: string, path: string, body?: unknown) => fetch(`${h!.url}/admin/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${(await oidc.clientCredentialsGrant(await h!.rp('acme-admin'), { scope: 'admin' })).access_token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { h, call };
  }
  const period = (since: number, until: number, format = 'json') => `/orgs/acme/compliance?${new URLSearchParams({ since: iso(since), until: iso(until), format })}`;

  it('reports the period\'s real events with exact figures', async () => {
    const { h, call } = await start();
    const t0 = await h.clock.now();
    await signIn(h, h.userAgent(), 'acme-gone', 'alice');

    // Bob steps up with TOTP because the app asks for it.
    await h.clock.set(t0 + MIN);
    const ua = h.userAgent();
    const rp = await h.rp('acme-other');
    const request = await authorizationUrl(rp, { acr_values: 'urn:curfew:acr:mfa' });
    const login = await ua.submit(await ua.navigate(request.url.href), '/login', { username: 'bob', password: PASSWORDS.bob });
    h.totp.advance(30_000);
    const done = await ua.submit(login, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
    expect((await completeSignIn(rp, done.leftTo!, request)).claims.acr).toBe('urn:curfew:acr:mfa');

    // The org tightens its idle limit to 10 minutes.
    const before = (await (await call('GET', '/orgs/acme/policy')).json()) as Record<string, unknown>;
    const changed = await call('PUT', '/orgs/acme/policy', { ...before, idleTimeoutSeconds: 600 });
    expect(changed.status).toBe(200);

    // Alice's deadline is t0 + 10 min, Bob's t0 + 11 min; the sweeper runs 250 ms after Bob's.
    await h.clock.set(t0 + 11 * MIN + 250);
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();

    const res = await call('GET', period(t0 - MIN, t0 + 12 * MIN));
    expect(res.status).toBe(200);
    const r = (await res.json()) as ComplianceReport;
    expect(r.period).toEqual({ since: iso(t0 - MIN), until: iso(t0 + 12 * MIN) });
    expect(r.policy.changes).toHaveLength(1);
    expect(r.policy.changes[0]).toMatchObject({ actor: 'client:acme-admin', before: { idleTimeoutSeconds: 900 }, after: { idleTimeoutSeconds: 600 } });
    expect(r.policy.atStart).toMatchObject({ idleTimeoutSeconds: 900 });
    expect(r.policy.atEnd).toMatchObject({ idleTimeoutSeconds: 600 });
    expect(r.sessions.started).toEqual({ sso: 2, rp: 2 });
    expect(r.sessions.ended).toEqual({ total: 2, byReason: { logout: 0, idle: 2, absolute: 0, admin: 0, policy: 0, user_disabled: 0, client_deleted: 0 } });
    expect(r.lateEnds.idle).toEqual({ ends: 2, late: 2, p50Ms: 250, p99Ms: 60_250, maxMs: 60_250 });
    expect(r.lateEnds.absolute).toEqual({ ends: 0, late: 0, p50Ms: null, p99Ms: null, maxMs: null });
    expect(r.mfa).toMatchObject({ required: 1, passed: 1, refused: 0 });
    expect(r.deliveries).toMatchObject({ delivered: 0, retrying: 0, dead: 1 });
    expect(r.deliveries.deadLetters).toEqual([expect.objectContaining({ client: 'acme-gone', attempts: 1 })]);
    expect(r.controlTests.runs).toBe(0);

    // A period that ends before the policy change shows the old policy in force and nothing else.
    const early = (await (await call('GET', period(t0 - 2 * MIN, t0 - MIN))).json()) as ComplianceReport;
    expect(early.policy.changes).toEqual([]);
    expect(early.policy.atEnd).toMatchObject({ idleTimeoutSeconds: 900 });
    expect(early.sessions.started).toEqual({ sso: 0, rp: 0 });

    // The printable document carries the same figures.
    const pdf = await call('GET', period(t0 - MIN, t0 + 12 * MIN, 'pdf'));
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const text = execFileSync('pdftotext', ['-layout', '-', '-'], { input: bytes }).toString();
    expect(text).toContain('Compliance evidence');
    expect(text).toMatch(/Idle lateness p50 \/ p99 \/ max\s+250 ms \/ 60250 ms \/ 60250 ms/);
    expect(text).toMatch(/Dead letters\s+1/);
    expect(text).toMatch(/Browser \(SSO\) sessions started\s+2/);
    expect(text).toContain('idleTimeoutSeconds: 900 -> 600');

    const html = await call('GET', period(t0 - MIN, t0 + 12 * MIN, 'html'));
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('250 ms / 60250 ms / 60250 ms');
  });

  it('refuses a bad period with a 400 naming each bad field', async () => {
    const { call } = await start();
    const bad = async (query: string) => {
      const res = await call('GET', `/orgs/acme/compliance?${query}`);
      expect(res.status, query).toBe(400);
      return ((await res.json()) as { fields: { field: string }[] }).fields.map((f) => f.field);
    };
    expect(await bad('since=yesterday&format=xml')).toEqual(['since', 'format']);
    expect(await bad('since=2030-01-02&until=2030-01-01')).toEqual(['since']);
    expect(await bad('since=2030-01-01&until=2030-01-01')).toEqual(['since']);
    expect(await bad('since=2020-01-01&until=2030-01-01')).toEqual(['until']);
    expect(await bad('until=2030-13-45')).toEqual(['until']);
    const fine = await call('GET', '/orgs/acme/compliance');
    expect(fine.status).toBe(200);
    const r = (await fine.json()) as ComplianceReport;
    expect(Date.parse(r.period.until) - Date.parse(r.period.since)).toBe(30 * 24 * 3600 * 1000);
    expect((await call('GET', '/orgs/globex/compliance')).status).toBe(404);
  });

  it('is behind the admin API\'s authentication (injected from app.ts)', async () => {
    const { h } = await start();
    for (const [method, path] of [['GET', '/orgs/acme/compliance'], ['POST', '/orgs/acme/compliance/control-test']] as const) {
      const none = await fetch(`${h.url}/admin/api/v1${path}`, { method });
      expect(none.status, `${method} ${path}`).toBe(401);
      const forged = await fetch(`${h.url}/admin/api/v1${path}`, { method, headers: { authorization: 'Bearer not-a-token' } });
      expect(forged.status, `${method} ${path}`).toBe(401);
    }
    expect(h.curfew.compliance.controlTest.isRunning('acme')).toBe(false);
  });

  /** Starts a control test over HTTP and waits until it holds a live synthetic session. */
  async function startControlTest(call: (m: string, p: string, b?: unknown) => Promise<Response>) {
    const res = await call('POST', '/orgs/acme/compliance/control-test');
    expect(res.status).toBe(202);
    expect((await call('POST', '/orgs/acme/compliance/control-test')).status).toBe(409);
    for (let i = 0; i < 200; i++) {
      const p = h!.curfew.compliance.controlTest.progress('acme');
      if (p?.phase === 'waiting_for_deadline' && p.deadline) return Date.parse(p.deadline);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error('the control test never reached its deadline wait');
  }
  async function untilFinished() {
    for (let i = 0; i < 400 && h!.curfew.compliance.controlTest.isRunning('acme'); i++) {
      await h!.curfew.sender.tick();
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(h!.curfew.compliance.controlTest.isRunning('acme')).toBe(false);
  }

  it('the control test: alive before the deadline, refused at it, announced to its receiver — a pass in the report', async () => {
    const { h, call } = await start();
    const t0 = await h.clock.now();
    const deadline = await startControlTest(call);
    // The rule gives the synthetic client the shortest idle limit above the org's 120 s warning.
    expect(deadline - t0).toBe(121_000);
    await h.clock.set(deadline - 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.curfew.compliance.controlTest.progress('acme')?.phase).toBe('waiting_for_deadline');
    // At the deadline itself it must be refused; the token arrives 40 ms later.
    await h.clock.set(deadline);
    for (let i = 0; i < 200 && h.curfew.compliance.controlTest.progress('acme')?.phase !== 'waiting_for_logout_token'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    await h.clock.set(deadline + 40);
    await untilFinished();

    const r = (await (await call('GET', period(t0 - MIN, deadline + MIN))).json()) as ComplianceReport;
    expect(r.controlTests).toMatchObject({ runs: 1, passed: 1, failed: 0 });
    expect(r.controlTests.items[0]).toMatchObject({ outcome: 'pass', trigger: 'manual', actor: 'client:acme-admin', deadline: iso(deadline), lastAliveMsBeforeDeadline: 1, refusedLateMs: 0, announcedLateMs: 40, failures: [] });
    // The synthetic session is the control test's, not the org's people's.
    expect(r.sessions.started).toEqual({ sso: 0, rp: 0 });
    expect(r.sessions.ended.total).toBe(0);
    expect(r.syntheticEventsExcluded).toBeGreaterThan(0);
    // Ensuring the rule is a policy change like any other, with its actor.
    expect(r.policy.changes.map((c) => c.actor)).toEqual(['system:compliance']);
    const synthetic = (await (await call('GET', '/orgs/acme/users')).json()) as { users: { username: string; roles: string[] }[] };
    expect(synthetic.users.find((u) => u.username === 'curfew-control-test')?.roles).toEqual(['curfew-synthetic']);
  });

  it('a control test that cannot set up (its client was deleted for good) is a failed run on the record', async () => {
    const { h, call } = await start();
    await h.curfew.compliance.controlTest.ensure('acme');
    // The admin API refuses to touch Curfew's own clients (409); a store tampered with can still lose it.
    expect((await call('DELETE', '/orgs/acme/clients/curfew-control-acme')).status).toBe(409);
    expect(await h.store.directory.deleteClient('curfew-control-acme')).toBeDefined();
    const t0 = await h.clock.now();
    expect((await call('POST', '/orgs/acme/compliance/control-test')).status).toBe(202);
    await untilFinished();
    const r = (await (await call('GET', period(t0 - MIN, t0 + MIN))).json()) as ComplianceReport;
    expect(r.controlTests).toMatchObject({ runs: 1, passed: 0, failed: 1 });
    expect(r.controlTests.items[0]?.failures).toEqual([expect.stringMatching(/^the control test could not set up its user, client or rule: /)]);
  });

  it('the control test fails, and says why, when the logout token cannot reach its receiver', async () => {
    const { h, call } = await start();
    await h.curfew.compliance.controlTest.ensure('acme');
    // Its receiver made unreachable behind the admin API's back (the API refuses: 409).
    expect((await call('PATCH', '/orgs/acme/clients/curfew-control-acme', { backchannel_logout_uri: 'http://127.0.0.1:9/unreachable' })).status).toBe(409);
    const client = (await h.store.directory.getClient('curfew-control-acme'))!;
    await h.store.directory.putClient({ ...client, backchannel_logout_uri: 'http://127.0.0.1:9/unreachable' });
    const t0 = await h.clock.now();
    const deadline = await startControlTest(call);
    await h.clock.set(deadline);
    await untilFinished();

    const r = (await (await call('GET', period(t0 - MIN, deadline + MIN))).json()) as ComplianceReport;
    expect(r.controlTests).toMatchObject({ runs: 1, passed: 0, failed: 1 });
    expect(r.controlTests.items[0]).toMatchObject({ outcome: 'fail', lastAliveMsBeforeDeadline: null, refusedLateMs: 0, announcedLateMs: null, failures: ['no logout token reached the test receiver within 3 s of the deadline'] });
  });
});
