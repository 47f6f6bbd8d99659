import { expect } from 'vitest';
import type { Harness } from '../support/curfew.ts';
import { testSeed } from '../support/curfew.ts';
import type { RpReceiver } from '../support/rp-receiver.ts';

/** The RPs every session of a wave signs in to; each has a back-channel logout URI. */
export const CLIENTS = ['acme-app', 'acme-other'] as const;
export const ALLOW = { 'backchannel.allowlist': ['http://127.0.0.1:*'] };

export function seedFor(rp: RpReceiver) {
  const s = testSeed();
  for (const client of s.orgs[0]!.clients as Array<Record<string, unknown>>) {
    if ((CLIENTS as readonly unknown[]).includes(client.client_id)) client.backchannel_logout_uri = rp.uri(String(client.client_id));
  }
  return s;
}

/** `count` signed-in sessions of alice, each with an RP session at every client of CLIENTS. */
export async function startSessions(h: Harness, label: string, count: number): Promise<string[]> {
  const org = await h.store.directory.getOrg('acme');
  const alice = await h.store.directory.findUserByName('acme', 'alice');
  if (!org || !alice) throw new Error('the test seed has no acme/alice');
  const uids: string[] = [];
  for (let i = 0; i < count; i++) {
    const uid = `uid-${label}-${i}`;
    await h.curfew.sessions.recordLogin({ uid, user: alice, org, ip: '10.0.0.1' });
    for (const client of CLIENTS) await h.curfew.sessions.recordRp({ uid, client, sid: sidOf(uid, client) });
    uids.push(uid);
  }
  return uids;
}

export const sidOf = (uid: string, client: string) => `sid-${uid}-${client}`;

const ACME_APP = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;

/** acme-app's status of one of its RP sessions, by sid: the HTTP status, Retry-After and `active`. */
export async function appStatus(h: Harness, sid: string): Promise<{ status: number; retryAfter: string | null; active?: boolean }> {
  const res = await fetch(`${h.url}/session/status?sid=${encodeURIComponent(sid)}`, { headers: { authorization: ACME_APP } });
  const body = res.status === 200 ? ((await res.json()) as { active: boolean }) : (await res.arrayBuffer(), undefined);
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ...(body ? { active: body.active } : {}) };
}

/** Every token the wave's sessions are owed: one per RP session. */
export const owed = (uids: string[]) => uids.flatMap((uid) => CLIENTS.map((client) => `${client} ${sidOf(uid, client)}`)).sort();

export interface Tally {
  owed: number;
  delivered: number;
  lost: number;
  duplicates: number;
  /** `session.ended` audit events beyond one per end. */
  duplicateAudits: number;
}

/** What the receiver got against what was owed, and the audit's `session.ended` events. */
export async function tally(h: Harness, rp: RpReceiver, uids: string[], ends: number): Promise<Tally> {
  const want = owed(uids);
  const got = rp.received.map((r) => `${r.client} ${String(r.payload.sid)}`);
  const unique = new Set(got);
  const audits = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1000 })).items.filter((e) => uids.includes(String(e.session)));
  return {
    owed: want.length,
    delivered: want.filter((t) => unique.has(t)).length,
    lost: want.filter((t) => !unique.has(t)).length,
    duplicates: got.length - unique.size,
    duplicateAudits: audits.length - ends,
  };
}

/**
 * Runs the workers by hand, riding out store errors, until every owed token arrived and nothing
 * is left to do — no outbox entry, no pending delivery (a re-send would come from there) — or
 * `timeoutMs` passed.
 */
export async function drain(h: Harness, rp: RpReceiver, uids: string[], timeoutMs = 20_000): Promise<void> {
  const want = owed(uids);
  const done = async () => {
    const got = new Set(rp.received.map((r) => `${r.client} ${String(r.payload.sid)}`));
    if (!want.every((t) => got.has(t))) return false;
    return (await h.store.ended.size()) === 0 && (await h.store.deliveries.list('acme', 'pending')).length === 0;
  };
  const until = Date.now() + timeoutMs;
  while (!(await done().catch(() => false)) && Date.now() < until) {
    const swept = await h.curfew.sweeper.tick().catch(() => 0);
    const sent = await h.curfew.sender.tick().catch(() => 0);
    if (swept === 0 && sent === 0) await new Promise((r) => setTimeout(r, 50));
  }
  expect(await h.store.ended.size()).toBe(0);
}

/** Retries a store-bound step until the store answers again (a restarted Redis). */
export async function eventually<T>(step: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
