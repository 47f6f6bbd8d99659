import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/sessions/policy-types.ts';
import { previewPolicy } from '../../src/sessions/preview-policy.ts';
import type { RpSession, SsoSession } from '../../src/sessions/types.ts';

const S = 1000;
const MIN = 60 * S;
// Pinned from the real clock: nothing here depends on today's date.
const NOW = Date.now();

const policy = (over: Partial<Policy> = {}): Policy => ({
  idleTimeoutSeconds: 900,
  absoluteTimeoutSeconds: 43200,
  warningSeconds: 120,
  mfa: 'reentry',
  refreshIsActivity: false,
  allowEnrollmentAtReentry: false,
  rules: [],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
  ...over,
});

const rp = (client: string, over: Partial<RpSession> = {}): RpSession => ({
  client, sid: `sid-${client}`, sidKey: `k-${client}`, startedAt: NOW - 10 * MIN, lastActiveAt: NOW - MIN, idleSeconds: 900, absoluteSeconds: 43200, ...over,
});

/** A session under the org default (15 min idle, 12 h absolute), last active `idleFor` ago. */
const session = (id: string, idleFor: number, over: Partial<SsoSession> = {}): SsoSession => ({
  id, org: 'acme', user: `usr_${id}`, signedInAt: NOW - 30 * MIN, lastActiveAt: NOW - idleFor,
  idleSeconds: 900, absoluteSeconds: 43200, warningSeconds: 120, refreshIsActivity: false, rps: {}, ...over,
});

describe('policy preview', () => {
  it('ends a session whose new deadline is exactly now, and not one whose deadline is now + 1 ms', () => {
    const exact = session('exact', 5 * MIN);
    const oneMsLeft = session('later', 5 * MIN - 1);
    const preview = previewPolicy(policy({ idleTimeoutSeconds: 300 }), [{ session: exact, roles: [] }, { session: oneMsLeft, roles: [] }], NOW);
    expect(preview).toMatchObject({ sessions: 2, endNow: 1, shorter: 1, longer: 0, unchanged: 0, endedSessions: 1 });
    expect(preview.affected).toEqual([
      { session: 'exact', user: 'usr_exact', expiresAt: NOW + 10 * MIN, newExpiresAt: NOW, outcome: 'ends', apps: [] },
      { session: 'later', user: 'usr_later', expiresAt: NOW + 10 * MIN + 1, newExpiresAt: NOW + 1, outcome: 'shorter', apps: [] },
    ]);
  });

  it('counts shorter, longer and unchanged ends, and lists only the sessions that move', () => {
    const subjects = [
      { session: session('admin', MIN), roles: ['admin'] },
      { session: session('staff', MIN), roles: ['staff'] },
      { session: session('office', MIN, { ip: '10.20.1.1' }), roles: ['staff'] },
    ];
    const next = policy({
      rules: [
        { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
        { name: 'office', match: { networks: ['10.20.0.0/16'] }, idleTimeoutSeconds: 1800 },
      ],
    });
    const preview = previewPolicy(next, subjects, NOW);
    expect(preview).toMatchObject({ sessions: 3, endNow: 0, shorter: 1, longer: 1, unchanged: 1, appSessionsEndNow: 0, endedSessions: 0 });
    expect(preview.affected.map((a) => [a.session, a.outcome, a.newExpiresAt - NOW])).toEqual([
      ['admin', 'shorter', 4 * MIN],
      ['office', 'longer', 29 * MIN],
    ]);
  });

  it('judges the absolute limit from the sign-in, whatever the activity', () => {
    const active = session('active', 0);
    const preview = previewPolicy(policy({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 1800 }), [{ session: active, roles: [] }], NOW);
    expect(preview).toMatchObject({ endNow: 1, endedSessions: 1 });
    expect(preview.affected[0]).toMatchObject({ outcome: 'ends', newExpiresAt: NOW });
  });

  it("ends an app's session inside a surviving SSO session, and counts it as a save would", () => {
    const s = session('s', MIN, { rps: { payments: rp('payments', { lastActiveAt: NOW - 5 * MIN }), wiki: rp('wiki') } });
    const next = policy({ rules: [{ name: 'payments', match: { clients: ['payments'] }, idleTimeoutSeconds: 300 }] });
    const preview = previewPolicy(next, [{ session: s, roles: [] }], NOW);
    expect(preview).toMatchObject({ sessions: 1, unchanged: 1, endNow: 0, appSessionsEndNow: 1, endedSessions: 1 });
    expect(preview.affected).toEqual([
      { session: 's', user: 'usr_s', expiresAt: NOW + 14 * MIN, newExpiresAt: NOW + 14 * MIN, outcome: 'unchanged', apps: [{ client: 'payments', expiresAt: NOW + 10 * MIN, newExpiresAt: NOW, outcome: 'ends' }] },
    ]);
  });

  it("does not count a dying SSO session's apps twice, nor ended or already dead sessions at all", () => {
    const dying = session('dying', 10 * MIN, { rps: { wiki: rp('wiki', { lastActiveAt: NOW - 10 * MIN }) } });
    const ended = session('ended-app', MIN, { rps: { wiki: rp('wiki', { endedAt: NOW - MIN, lastActiveAt: NOW - 10 * MIN }) } });
    const dead = session('dead', 15 * MIN);
    const preview = previewPolicy(policy({ idleTimeoutSeconds: 300 }), [dying, ended, dead].map((s) => ({ session: s, roles: [] })), NOW);
    expect(preview).toMatchObject({ sessions: 2, endNow: 1, shorter: 1, appSessionsEndNow: 0, endedSessions: 1 });
    expect(preview.affected.find((a) => a.session === 'dying')?.apps).toEqual([]);
    expect(preview.affected.find((a) => a.session === 'ended-app')?.apps).toEqual([]);
  });

  it('changes nothing it was given', () => {
    const s = session('s', MIN, { rps: { wiki: rp('wiki') } });
    const copy = structuredClone(s);
    previewPolicy(policy({ idleTimeoutSeconds: 60 }), [{ session: s, roles: ['admin'] }], NOW);
    expect(s).toEqual(copy);
  });
});
