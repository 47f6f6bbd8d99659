import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import type { Org, User } from '../../src/orgs/types.ts';
import { createSessionService, type SessionEnded, type SessionService } from '../../src/sessions/service.ts';
import { createSweeper } from '../../src/sessions/sweeper.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

const IDLE = 600;
const org: Org = {
  id: 'acme', name: 'Acme',
  policy: { idleTimeoutSeconds: IDLE, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off', refreshIsActivity: false, allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 86_400 } },
};
const user: User = { id: 'u1', org: 'acme', username: 'alice', passwordHash: 'x', roles: [], disabled: false, createdAt: new Date().toISOString() };
const OPTIONS = { tickMs: 20, batch: 2, leaseMs: 30_000 };

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function setup(wrap: (s: SessionService) => SessionService = (s) => s, stepUp: () => Promise<void> = async () => {}, options = OPTIONS) {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  opened.push(store);
  await store.directory.putOrg(org);
  await store.directory.putUser(user);
  const logs: string[] = [];
  const logger = createLogger('error', new Writable({ write: (chunk, _e, done) => (logs.push(String(chunk)), done()) }));
  const ended: string[] = [];
  const consequences = { 'deliveries-queued': async (e: SessionEnded) => void ended.push(e.session.id), 'step-up-required': stepUp };
  const sessions = createSessionService({ store, hash: createIdentifierHasher('k'.repeat(32)), audit: createAudit(store.audit, logger), logger, endLeaseMs: 30_000, consequences });
  const sweeper = createSweeper({ store: store.sessions, sessions: wrap(sessions), logger }, options);
  return { clock, store, sessions, sweeper, ended, logs };
}

describe('sweeper', () => {
  it('refuses options it cannot work with, naming the option', async () => {
    const t = await setup();
    for (const name of ['tickMs', 'batch', 'leaseMs'] as const) {
      for (const bad of [0, -1, 1.5]) {
        expect(() => createSweeper({ store: t.store.sessions, sessions: t.sessions, logger: createLogger('silent') }, { ...OPTIONS, [name]: bad }), `${name}=${bad}`).toThrow(`createSweeper: ${name} must be a positive integer`);
      }
    }
  });

  it('ends nothing 1 ms before a deadline, and the session at it, without any request looking', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
    t.clock.set(start + IDLE * 1000 - 1);
    expect(await t.sweeper.tick()).toBe(0);
    expect(t.ended).toEqual([]);
    t.clock.set(start + IDLE * 1000);
    expect(await t.sweeper.tick()).toBe(1);
    expect(t.ended).toEqual(['uid-1']);
    expect(await t.sessions.get('uid-1')).toBeUndefined();
  });

  it('claims at most `batch` per tick, and the next tick takes the rest', async () => {
    const t = await setup();
    const start = t.clock.now();
    for (const uid of ['a', 'b', 'c']) await t.sessions.recordLogin({ uid, user, org, ip: undefined });
    t.clock.set(start + IDLE * 1000);
    expect(await t.sweeper.tick()).toBe(2);
    expect(await t.sweeper.tick()).toBe(1);
    expect(await t.sweeper.tick()).toBe(0);
    expect(t.ended.sort()).toEqual(['a', 'b', 'c']);
  });

  it('logs a session it failed to sweep, still ends the others, and takes the failed one again after its lease', async () => {
    let fail = true;
    const t = await setup((s) => ({
      ...s,
      sweep: async (key) => {
        if (fail) {
          fail = false;
          throw new Error('injected sweep failure');
        }
        return s.sweep(key);
      },
    }));
    const start = t.clock.now();
    for (const uid of ['a', 'b']) await t.sessions.recordLogin({ uid, user, org, ip: undefined });
    t.clock.set(start + IDLE * 1000);
    expect(await t.sweeper.tick()).toBe(2);
    expect(t.ended).toHaveLength(1);
    expect(t.logs.join('')).toContain('sweeping a session failed');
    // Hidden for its lease, then claimed again.
    expect(await t.sweeper.tick()).toBe(0);
    t.clock.advance(OPTIONS.leaseMs);
    expect(await t.sweeper.tick()).toBe(1);
    expect(t.ended.sort()).toEqual(['a', 'b']);
  });

  it('finishes an end whose ender failed half-way, once its lease is over', async () => {
    let failed = false;
    const t = await setup(undefined, async () => {
      if (!failed) {
        failed = true;
        throw new Error('injected listener failure');
      }
    });
    await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
    await t.sessions.end('uid-1', 'logout');
    expect(await t.store.ended.size()).toBe(1);
    expect(await t.sweeper.tick()).toBe(0);
    t.clock.advance(30_000);
    expect(await t.sweeper.tick()).toBe(1);
    expect(await t.store.ended.size()).toBe(0);
    expect((await t.store.audit.query({ org: 'acme', type: 'session.ended', limit: 10 })).items).toHaveLength(1);
  });

  it('runs on its own once started, and stops', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
    t.clock.set(start + IDLE * 1000);
    t.sweeper.start();
    await expect.poll(() => t.ended, { timeout: 5_000 }).toEqual(['uid-1']);
    await t.sweeper.stop();
  });

  describe('waking at the next deadline', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /**
     * One clock for the store and the timers: the fake clock moves them together, so a timer
     * firing is the store's time reaching that instant. The poll (tickMs 60 s) starts 30.5 s
     * off the deadline's phase: only a wake set for the deadline can end it on time.
     */
    async function running() {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      const t = await setup(undefined, undefined, { ...OPTIONS, tickMs: 60_000 });
      t.clock.now = () => Date.now();
      return t;
    }

    it('ends nothing 1 ms before the deadline and the session at it, the poll being 30 s away', async () => {
      const t = await running();
      const start = Date.now();
      await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
      await vi.advanceTimersByTimeAsync(30_500);
      t.sweeper.start();
      await vi.advanceTimersByTimeAsync(start + IDLE * 1000 - 1 - Date.now());
      expect(t.ended).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.ended).toEqual(['uid-1']);
      await t.sweeper.stop();
      expect(vi.getTimerCount()).toBe(0);
    });

    it('finds a session written after it went to sleep at its next poll, then wakes at its deadline', async () => {
      const t = await running();
      t.sweeper.start();
      await vi.advanceTimersByTimeAsync(30_500);
      // As another instance would: the sweeper slept on an empty index and was not told.
      const start = Date.now();
      await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
      await vi.advanceTimersByTimeAsync(IDLE * 1000 - 1);
      expect(t.ended).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(Date.now()).toBe(start + IDLE * 1000);
      expect(t.ended).toEqual(['uid-1']);
      await t.sweeper.stop();
    });

    it('waits its tick after a claim that failed, not the next deadline it knew of (a store down is not hammered)', async () => {
      const t = await running();
      const claims: number[] = [];
      let failing = false;
      const claimDue = t.store.sessions.claimDue.bind(t.store.sessions);
      t.store.sessions.claimDue = async (limit, leaseMs) => {
        claims.push(Date.now());
        // Past a handful of claims without time passing, it is spinning: let it out to fail below.
        if (failing && claims.length < 50) throw new Error('injected store outage');
        return claimDue(limit, leaseMs);
      };
      const start = Date.now();
      await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
      await vi.advanceTimersByTimeAsync(IDLE * 1000 - 30_000);
      t.sweeper.start();
      await vi.advanceTimersByTimeAsync(0);
      // It knows of the deadline 30 s away and sleeps until it; the store goes down meanwhile.
      failing = true;
      await vi.advanceTimersByTimeAsync(start + IDLE * 1000 - Date.now() + 60_000 * 3);
      const gaps = claims.slice(2).map((at, i) => at - claims[i + 1]!);
      expect(gaps.length).toBeGreaterThanOrEqual(2);
      for (const gap of gaps) expect(gap).toBe(60_000);
      expect(t.ended).toEqual([]);
      await t.sweeper.stop();
    });

    it('wakes again when a claimed session\'s lease runs out, if its sweep failed', async () => {
      let fail = true;
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      const t = await setup((s) => ({
        ...s,
        sweep: async (key) => {
          if (fail) {
            fail = false;
            throw new Error('injected sweep failure');
          }
          return s.sweep(key);
        },
      }), undefined, { ...OPTIONS, tickMs: 60_000, leaseMs: 7_000 });
      t.clock.now = () => Date.now();
      const start = Date.now();
      await t.sessions.recordLogin({ uid: 'uid-1', user, org, ip: undefined });
      await vi.advanceTimersByTimeAsync(30_500);
      t.sweeper.start();
      await vi.advanceTimersByTimeAsync(start + IDLE * 1000 - Date.now());
      expect(t.ended).toEqual([]);
      expect(t.logs.join('')).toContain('sweeping a session failed');
      await vi.advanceTimersByTimeAsync(7_000 - 1);
      expect(t.ended).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(t.ended).toEqual(['uid-1']);
      await t.sweeper.stop();
    });
  });
});
