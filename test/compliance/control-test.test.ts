import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { controlReceipts } from '../../src/compliance/control-receiver.ts';
import { CONTROL_ROLE, CONTROL_RULE, CONTROL_USERNAME, controlClientId, createControlTest, isControlClient, RECEIVER_PATH, type ControlTestResult } from '../../src/compliance/control-test.ts';
import { createLogger } from '../../src/logger.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { operationsFixture } from '../support/operations.ts';
import { serve } from '../support/serve.ts';

const ISSUER = 'https://id.example';
/** The shared clock moves this much at each look the control test takes at it. */
const STEP_MS = 250;

/**
 * The control test over the memory store. Its shared clock moves STEP_MS at every look, so a
 * run waits out its deadline at once and deterministically. Its HTTP view of the session is a
 * /session/status route that authenticates the control client by its stored secret hash and
 * answers from the real session service (passively, as the real route does); `lie` makes it
 * answer active whatever the session says. Ends are delivered to the receipts as the real
 * receiver would record them, unless `silent`.
 */
async function setup(options: { lie?: boolean; silent?: boolean; announceTimeoutMs?: number } = {}) {
  const hash = createIdentifierHasher('h'.repeat(32));
  let receipts: ReturnType<typeof controlReceipts> | undefined;
  const t = await operationsFixture({
    deliver: async (ended) => {
      if (options.silent || !receipts) return;
      for (const rp of ended.rps) if (isControlClient(rp.client)) await receipts.record({ sid: rp.sid, client: rp.client, receivedAt: t.clock.now() });
    },
  });
  receipts = controlReceipts(t.store.models, hash);
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path !== '/session/status') return;
    const [id, secret] = Buffer.from(ctx.get('authorization').replace(/^Basic /, ''), 'base64').toString().split(':').map(decodeURIComponent);
    const client = await t.store.directory.getClient(id ?? '');
    if (!client || !t.deps.clientSecrets.matches(client.client_secret_hash, secret ?? '')) {
      ctx.status = 401;
      return;
    }
    const status = await t.sessions.statusBySid(String(ctx.query.sid), client.client_id, 'passive');
    ctx.body = options.lie ? { active: true, expiresAt: new Date(t.clock.now() + 60_000).toISOString() } : status;
  });
  const server = await serve(app);
  const store = { ...t.store, now: async () => (t.clock.advance(STEP_MS), t.clock.now()) };
  const control = createControlTest({
    store, sessions: t.sessions, audit: t.audit, hash, clientSecrets: t.deps.clientSecrets, receipts, logger: createLogger('silent'), issuer: ISSUER,
    internalBase: () => server.url, changePolicy: t.deps.changePolicy, announceTimeoutMs: options.announceTimeoutMs ?? 1_000, pollMs: 1,
  });
  const runs = async () => (await t.audited('compliance.control_test')).map((e) => e.data as unknown as ControlTestResult);
  let serving = true;
  const stopServing = async () => {
    if (serving) await server.close();
    serving = false;
  };
  return { ...t, control, receipts, runs, stopServing, close: async () => {
    await control.stop();
    await stopServing();
    await t.close();
  } };
}

describe('the control test (SPEC §13)', () => {
  let t: Awaited<ReturnType<typeof setup>> | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('sets up a marked synthetic user, client and the shortest idle rule, once', async () => {
    t = await setup();
    const { user, clientId, idleSeconds } = await t.control.ensure('acme');
    expect(user).toMatchObject({ username: CONTROL_USERNAME, roles: [CONTROL_ROLE], org: 'acme' });
    expect(clientId).toBe(controlClientId('acme'));
    expect(await t.store.directory.getClient(clientId)).toMatchObject({ backchannel_logout_uri: `${ISSUER}${RECEIVER_PATH}`, token_endpoint_auth_method: 'client_secret_basic' });
    // warningSeconds is 120: the rule's idle limit must exceed it.
    expect(idleSeconds).toBe(121);
    expect((await t.store.directory.getOrg('acme'))?.policy.rules).toEqual([{ name: CONTROL_RULE, match: { clients: [clientId] }, idleTimeoutSeconds: 121 }]);
    await t.control.ensure('acme');
    const changes = await t.audited('policy.changed');
    expect(changes.map((e) => e.actor)).toEqual(['system:compliance']);
    expect((await t.store.directory.listUsers('acme')).filter((u) => u.username === CONTROL_USERNAME)).toHaveLength(1);
    expect(await t.control.syntheticUsers('acme')).toEqual([user.id]);
    expect(await t.control.syntheticUsers('globex')).toEqual([]);
  });

  it('passes when the session lives before its deadline, is refused at it and announced; and leaves nothing behind', async () => {
    t = await setup();
    const result = await t.control.run('acme', 'manual', 'user:u-alice');
    expect(result?.failures).toEqual([]);
    expect(result).toMatchObject({ outcome: 'pass', trigger: 'manual', idleSeconds: 121, aliveBefore: { active: true } });
    const signedIn = Date.parse(result!.signedInAt);
    expect(Date.parse(result!.deadline!)).toBe(signedIn + 121_000);
    expect(result!.lastAliveMsBeforeDeadline).toBeGreaterThan(0);
    expect(result!.lastAliveMsBeforeDeadline).toBeLessThanOrEqual(1_000);
    expect(result!.refusedLateMs).toBeGreaterThanOrEqual(0);
    expect(result!.refusedLateMs).toBeLessThan(STEP_MS * 2);
    expect(result!.announcedLateMs).toBeGreaterThanOrEqual(0);
    expect(await t.runs()).toEqual([result]);
    expect(await t.sessions.list('acme')).toEqual([]);
    expect(t.control.isRunning('acme')).toBe(false);
  });

  it('fails when the session is still active after its deadline', async () => {
    t = await setup({ lie: true });
    const result = await t.control.run('acme', 'schedule', 'system:schedule');
    expect(result?.outcome).toBe('fail');
    expect(result?.failures).toEqual([expect.stringMatching(/^the session was still active \d+ ms after its deadline$/)]);
    expect(await t.sessions.list('acme')).toEqual([]);
  });

  it('fails when no logout token reaches the receiver in time', async () => {
    t = await setup({ silent: true, announceTimeoutMs: 20 });
    const result = await t.control.run('acme', 'manual', 'user:u-alice');
    expect(result).toMatchObject({ outcome: 'fail', announcedAt: null });
    expect(result?.refusedAt).not.toBeNull();
    expect(result?.failures).toEqual(['no logout token reached the test receiver within 0 s of the deadline']);
  });

  it('fails, on the record, when the status endpoint cannot be reached, and ends its synthetic session', async () => {
    t = await setup();
    await t.stopServing();
    const result = await t.control.run('acme', 'manual', 'user:u-alice');
    expect(result?.outcome).toBe('fail');
    expect(result?.failures[0]).toMatch(/^the control test could not run: /);
    expect(await t.sessions.list('acme')).toEqual([]);
    expect(await t.runs()).toHaveLength(1);
  });

  it('fails, on the record, when it cannot set up (an org that does not exist)', async () => {
    t = await setup();
    const result = await t.control.run('initech', 'manual', 'user:u-alice');
    expect(result).toMatchObject({ outcome: 'fail', deadline: null });
    expect(result?.failures).toEqual(['the control test could not set up its user, client or rule: org initech not found']);
    expect((await t.audited('compliance.control_test', 'initech')).map((e) => e.client)).toEqual(['curfew-control-initech']);
  });

  it('runs once per org at a time on an instance: a second start while one runs gets nothing', async () => {
    t = await setup();
    const first = t.control.run('acme', 'manual', 'user:u-alice');
    expect(t.control.isRunning('acme')).toBe(true);
    expect(t.control.progress('acme')).toEqual({ phase: 'signing_in' });
    expect(await t.control.run('acme', 'manual', 'user:u-alice')).toBeUndefined();
    expect((await first)?.outcome).toBe('pass');
    expect(t.control.progress('acme')).toBeUndefined();
    expect(await t.runs()).toHaveLength(1);
  });

  it('stops a run waiting for its token as interrupted, and starts none after', async () => {
    t = await setup({ silent: true, announceTimeoutMs: 60_000 });
    const run = t.control.run('acme', 'manual', 'user:u-alice');
    while (t.control.progress('acme')?.phase !== 'waiting_for_logout_token') await new Promise((r) => setTimeout(r, 1));
    await t.control.stop();
    const result = await run;
    expect(result?.failures).toEqual(['interrupted: the instance shut down before the test finished']);
    expect(await t.control.run('acme', 'manual', 'user:u-alice')).toBeUndefined();
  });
});
