import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvCell, csvRow, detailPairs, parseAuditFilter } from '../../../src/admin/console/audit-view.ts';
import { totpCode } from '../../../src/mfa/totp.ts';
import { PASSWORDS, signIn, startCurfew, testSeed, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('audit CSV cells', () => {
  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
  });
  it('keeps a cell a spreadsheet would run as a formula as text', () => {
    for (const lead of ['=', '+', '-', '@', '\t']) expect(csvCell(`${lead}cmd`)).toBe(`'${lead}cmd`);
    expect(csvCell('=HYPERLINK("http://x","a")')).toBe(`"'=HYPERLINK(""http://x"",""a"")"`);
    expect(csvRow(['a', '=1+1', 'b,c'])).toBe(`a,'=1+1,"b,c"`);
  });
});

describe('audit details', () => {
  it('are key: value pairs, nested keys dotted, lists joined', () => {
    expect(detailPairs({ reason: 'idle', decidedBy: { idle: 'rule:x' }, roles: ['a', 'b'] })).toEqual([
      { key: 'reason', value: 'idle' }, { key: 'decidedBy.idle', value: 'rule:x' }, { key: 'roles', value: 'a, b' },
    ]);
  });
});

describe('audit filter parsing', () => {
  it('reads a zoneless date and time as UTC and names every bad field at once', () => {
    expect(parseAuditFilter({ since: '2030-01-02T03:04' }).filter.since).toBe('2030-01-02T03:04:00.000Z');
    let fields: unknown;
    try {
      parseAuditFilter({ type: 'nope', since: 'yesterday', until: 'soon' });
    } catch (err) {
      fields = (err as { fields: unknown }).fields;
    }
    expect(fields).toEqual([
      { field: 'type', message: 'unknown event type: nope' },
      { field: 'since', message: 'not a date and time: yesterday' },
      { field: 'until', message: 'not a date and time: soon' },
    ]);
  });
});

/** Issue 12 item 2: the audit page an auditor reads, filters and exports. */
describe('the console audit page', () => {
  let h: Harness;
  let ua: UserAgent;
  let aliceId: string;
  let aliceSid: string;
  let t0: number;
  const rows = (html: string) => html.split('<tbody>')[1]?.split('</tbody>')[0]?.split('<tr data-event=').slice(1) ?? [];
  beforeAll(async () => {
    const seed = testSeed();
    (seed.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>).totpSecret = BOB_SECRET;
    h = await startCurfew('memory', { seed });
    t0 = await h.clock.now();
    aliceId = (await h.store.directory.findUserByName('acme', 'alice'))!.id;
    const alice = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sessions = await h.curfew.sessions.list('acme', { user: aliceId });
    aliceSid = sessions[0]!.id;
    expect(alice.claims.sub).toBe(aliceId);
    await h.clock.set(t0 + 10 * MIN);
    ua = h.userAgent();
    let page = await ua.navigate(`${h.url}/admin/login?org=acme`);
    page = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
    await ua.submit(page, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
    await h.store.audit.append({ type: 'admin.write', org: 'acme', actor: 'client:tool', client: 'acme-app', data: { action: 'test', note: '=HYPERLINK("http://evil","x"), ok' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows usernames with their ids on hover, and details as key: value, not JSON', async () => {
    const page = await ua.request(`${h.url}/admin/audit?user=alice&type=session.started`);
    const list = rows(page.html);
    expect(list.length).toBeGreaterThan(0);
    expect(list[0]).toContain(`<td title="${aliceId}">alice</td>`);
    expect(list[0]).toContain('<dt>idleSeconds</dt><dd>');
    expect(page.html).not.toContain('{&quot;');
  });

  it('filters by client and by session, and links each session to its timeline', async () => {
    const byClient = rows((await ua.request(`${h.url}/admin/audit?client=acme-app`)).html);
    expect(byClient.length).toBeGreaterThan(1);
    expect(byClient.every((r) => r.includes('<td>acme-app</td>'))).toBe(true);
    expect(rows((await ua.request(`${h.url}/admin/audit?client=no-such-app`)).html)).toEqual([]);
    const bySession = rows((await ua.request(`${h.url}/admin/audit?session=${aliceSid}`)).html);
    expect(bySession.length).toBeGreaterThan(0);
    expect(bySession.every((r) => r.includes(`href="/admin/sessions/${aliceSid}/timeline"`))).toBe(true);
  });

  it('filters by time range: since and until, inclusive', async () => {
    const at = (ms: number) => new Date(ms).toISOString();
    const all = rows((await ua.request(`${h.url}/admin/audit?user=alice`)).html);
    const early = rows((await ua.request(`${h.url}/admin/audit?user=alice&until=${at(t0 + 5 * MIN)}`)).html);
    const late = rows((await ua.request(`${h.url}/admin/audit?since=${at(t0 + 5 * MIN)}`)).html);
    expect(early.length).toBeGreaterThan(0);
    expect(early.length).toBeLessThanOrEqual(all.length);
    expect(late.some((r) => r.includes('session.started') && r.includes(aliceId))).toBe(false);
    expect(late.some((r) => r.includes('login.succeeded') || r.includes('admin.write'))).toBe(true);
  });

  it('answers a bad filter with 400 naming the field, not all events', async () => {
    const page = await ua.request(`${h.url}/admin/audit?since=yesterday`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('role="alert"');
    expect(page.html).toContain('not a date and time: yesterday');
    expect(rows(page.html)).toEqual([]);
  });

  it('exports the filtered events as CSV, escaped and formula-safe, and as JSON', async () => {
    const csv = await ua.request(`${h.url}/admin/audit/export.csv?client=acme-app`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="audit-acme.csv"');
    const lines = csv.html.trimEnd().split('\r\n');
    expect(lines[0]).toBe('at,type,actor,user,user_id,client,session,ip,details');
    expect(lines.slice(1).every((l) => l.split(',')[5] === 'acme-app' || l.includes(',acme-app,'))).toBe(true);
    expect(csv.html).toContain(`"action: test; note: =HYPERLINK(""http://evil"",""x""), ok"`);
    const json = await ua.request(`${h.url}/admin/audit/export.json?user=alice`);
    const events = JSON.parse(json.html) as Array<{ user: string; username: string }>;
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.user === aliceId && e.username === 'alice')).toBe(true);
  });

  it('exports only with the console session', async () => {
    const res = await h.userAgent().request(`${h.url}/admin/audit/export.csv`);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin');
  });
});
