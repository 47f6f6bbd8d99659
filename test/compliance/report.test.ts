import { describe, expect, it } from 'vitest';
import type { AuditRecord, NewAuditRecord } from '../../src/audit/types.ts';
import { complianceReport, lateness, percentile, type ReportInput } from '../../src/compliance/report.ts';
import type { Policy } from '../../src/sessions/policy-types.ts';

const SINCE = '2030-01-01T00:00:00.000Z';
const UNTIL = '2030-01-31T00:00:00.000Z';
const policy = (idle: number): Policy => ({ idleTimeoutSeconds: idle, absoluteTimeoutSeconds: 43200, warningSeconds: 60, mfa: 'reentry', refreshIsActivity: false, allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 } });

let seq = 0;
function ev(at: string, e: NewAuditRecord): AuditRecord {
  seq += 1;
  return { id: `${Date.parse(at)}-${seq}`, at, org: 'acme', ...e };
}
const input = (events: AuditRecord[], extra: Partial<ReportInput> = {}): ReportInput => ({
  org: { id: 'acme', name: 'Acme' },
  period: { since: SINCE, until: UNTIL },
  generatedAt: '2030-02-01T00:00:00.000Z',
  events,
  currentPolicy: policy(900),
  laterPolicyChanges: [],
  syntheticUsers: [],
  ...extra,
});
const ended = (at: string, reason: string, lateMs?: number, user = 'usr_a') =>
  ev(at, { type: 'session.ended', user, session: 's', data: { reason, scope: 'sso', ...(lateMs !== undefined ? { lateMs } : {}) } });

describe('percentile (nearest rank)', () => {
  it('is null for no values', () => expect(percentile([], 50)).toBeNull());
  it('is the only value of one', () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
  });
  it('takes the smallest value with p% at or below it', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([1, 2, 3], 99)).toBe(3);
  });
});

describe('lateness', () => {
  it('reports nothing, not zeros, for an empty set', () => {
    expect(lateness([])).toEqual({ ends: 0, late: 0, p50Ms: null, p99Ms: null, maxMs: null });
  });
  it('sorts, counts the late ones and takes p50/p99/max', () => {
    const values = [0, 0, 250, 1000, ...Array.from({ length: 196 }, () => 5), 9000];
    const l = lateness(values);
    // 201 values: rank ceil(0.99 * 201) = 199 is 250 (two zeros, 196 fives, then 250).
    expect(l).toEqual({ ends: 201, late: 199, p50Ms: 5, p99Ms: 250, maxMs: 9000 });
  });
});

describe('compliance report', () => {
  it('counts an end audited twice (a slow ender and the worker that took its lease over) once', () => {
    const twice = (at: string, end: string, lateMs: number) => ev(at, { type: 'session.ended', user: 'usr_a', session: 's', data: { reason: 'idle', scope: 'sso', end, lateMs } });
    const r = complianceReport(input([twice('2030-01-02T00:00:00.000Z', 'end-1', 40), twice('2030-01-02T00:00:31.000Z', 'end-1', 31_040), twice('2030-01-03T00:00:00.000Z', 'end-2', 10), ended('2030-01-04T00:00:00.000Z', 'idle', 20)]));
    expect(r.sessions.ended.byReason.idle).toBe(3);
    expect(r.lateEnds.idle).toMatchObject({ ends: 3, maxMs: 40 });
  });

  it('an empty period: every figure zero, the current policy in force, no changes', () => {
    const r = complianceReport(input([]));
    expect(r.policy).toEqual({ atStart: policy(900), atEnd: policy(900), changes: [] });
    expect(r.sessions.started).toEqual({ sso: 0, rp: 0 });
    expect(r.sessions.ended.total).toBe(0);
    expect(Object.values(r.sessions.ended.byReason).every((n) => n === 0)).toBe(true);
    expect(r.lateEnds.idle.p50Ms).toBeNull();
    expect(r.mfa).toEqual({ required: 0, stepUpsRequired: 0, refused: 0, passed: 0, enrolled: 0, failed: 0, locked: 0 });
    expect(r.deliveries).toEqual({ delivered: 0, retrying: 0, dead: 0, deadLetters: [] });
    expect(r.controlTests).toEqual({ runs: 0, passed: 0, failed: 0, items: [] });
    expect(r.period).toEqual({ since: SINCE, until: UNTIL });
  });

  it('counts only events in [since, until)', () => {
    const r = complianceReport(input([
      ended('2029-12-31T23:59:59.999Z', 'logout'),
      ended(SINCE, 'logout'),
      ended('2030-01-30T23:59:59.999Z', 'admin'),
      ended(UNTIL, 'admin'),
    ]));
    expect(r.sessions.ended.total).toBe(2);
    expect(r.sessions.ended.byReason.logout).toBe(1);
    expect(r.sessions.ended.byReason.admin).toBe(1);
  });

  it('sessions started by scope and ended by every reason', () => {
    const r = complianceReport(input([
      ev('2030-01-02T00:00:00.000Z', { type: 'session.started', data: { scope: 'sso' } }),
      ev('2030-01-02T00:00:01.000Z', { type: 'session.started', data: { scope: 'rp' } }),
      ev('2030-01-02T00:00:02.000Z', { type: 'session.started', data: { scope: 'rp' } }),
      ...['logout', 'idle', 'absolute', 'admin', 'policy', 'user_disabled', 'client_deleted', 'idle'].map((reason, i) => ended(`2030-01-03T00:00:0${i}.000Z`, reason, reason === 'idle' || reason === 'absolute' ? 10 : undefined)),
      ended('2030-01-04T00:00:00.000Z', 'not-a-reason'),
    ]));
    expect(r.sessions.started).toEqual({ sso: 1, rp: 2 });
    expect(r.sessions.ended).toEqual({ total: 8, byReason: { logout: 1, idle: 2, absolute: 1, admin: 1, policy: 1, user_disabled: 1, client_deleted: 1 } });
  });

  it('late idle and absolute ends, apart, from lateMs; other reasons never count', () => {
    const r = complianceReport(input([
      ended('2030-01-05T00:00:00.000Z', 'idle', 0),
      ended('2030-01-05T00:00:01.000Z', 'idle', 120),
      ended('2030-01-05T00:00:02.000Z', 'idle', 4000),
      ended('2030-01-05T00:00:03.000Z', 'absolute', 30),
      ended('2030-01-05T00:00:04.000Z', 'policy', 99999),
      ended('2030-01-05T00:00:05.000Z', 'idle'),
    ]));
    expect(r.lateEnds.idle).toEqual({ ends: 3, late: 2, p50Ms: 120, p99Ms: 4000, maxMs: 4000 });
    expect(r.lateEnds.absolute).toEqual({ ends: 1, late: 1, p50Ms: 30, p99Ms: 30, maxMs: 30 });
  });

  it('every policy change with who, when, before and after; in force at start and end', () => {
    const r = complianceReport(input([
      ev('2030-01-10T00:00:00.000Z', { type: 'policy.changed', actor: 'user:bob', data: { before: policy(900), after: policy(600) } }),
      ev('2030-01-03T00:00:00.000Z', { type: 'policy.changed', actor: 'client:acme-admin', data: { before: policy(1200), after: policy(900) } }),
    ], {
      currentPolicy: policy(300),
      laterPolicyChanges: [ev('2030-02-01T00:00:00.000Z', { type: 'policy.changed', actor: 'user:bob', data: { before: policy(600), after: policy(300) } })],
    }));
    expect(r.policy.changes).toEqual([
      { at: '2030-01-03T00:00:00.000Z', actor: 'client:acme-admin', before: policy(1200), after: policy(900) },
      { at: '2030-01-10T00:00:00.000Z', actor: 'user:bob', before: policy(900), after: policy(600) },
    ]);
    expect(r.policy.atStart).toEqual(policy(1200));
    expect(r.policy.atEnd).toEqual(policy(600));
  });

  it('the policy at the end of a period with no changes is the one before the next later change', () => {
    const r = complianceReport(input([], {
      currentPolicy: policy(300),
      laterPolicyChanges: [
        ev('2030-03-01T00:00:00.000Z', { type: 'policy.changed', data: { before: policy(600), after: policy(300) } }),
        ev('2030-02-01T00:00:00.000Z', { type: 'policy.changed', data: { before: policy(900), after: policy(600) } }),
      ],
    }));
    expect(r.policy.atStart).toEqual(policy(900));
    expect(r.policy.atEnd).toEqual(policy(900));
  });

  it('step-ups required, refused and passed; enrollments apart', () => {
    const r = complianceReport(input([
      ev('2030-01-06T00:00:00.000Z', { type: 'mfa.required', data: { outcome: 'verify', stepUp: true } }),
      ev('2030-01-06T00:00:01.000Z', { type: 'mfa.required', data: { outcome: 'verify', stepUp: false } }),
      ev('2030-01-06T00:00:02.000Z', { type: 'mfa.required', data: { outcome: 'refused', reason: 'not_enrolled' } }),
      ev('2030-01-06T00:00:03.000Z', { type: 'mfa.succeeded', data: { method: 'totp' } }),
      ev('2030-01-06T00:00:04.000Z', { type: 'mfa.succeeded', data: { method: 'recovery' } }),
      ev('2030-01-06T00:00:05.000Z', { type: 'mfa.succeeded', data: { method: 'enrollment' } }),
      ev('2030-01-06T00:00:06.000Z', { type: 'mfa.failed', data: { reason: 'invalid' } }),
      ev('2030-01-06T00:00:07.000Z', { type: 'mfa.locked', data: {} }),
    ]));
    expect(r.mfa).toEqual({ required: 3, stepUpsRequired: 1, refused: 1, passed: 2, enrolled: 1, failed: 1, locked: 1 });
  });

  it('deliveries by outcome, with every dead letter listed', () => {
    const r = complianceReport(input([
      ev('2030-01-07T00:00:00.000Z', { type: 'backchannel.delivered', client: 'app', data: { delivery: 'd1' } }),
      ev('2030-01-07T00:00:01.000Z', { type: 'backchannel.retrying', client: 'app', data: { delivery: 'd2' } }),
      ev('2030-01-07T00:00:02.000Z', { type: 'backchannel.dead', client: 'app', user: 'usr_a', data: { delivery: 'd2', attempt: 10, error: 'HTTP 503', sid: 'sid-1' } }),
    ]));
    expect(r.deliveries).toEqual({
      delivered: 1,
      retrying: 1,
      dead: 1,
      deadLetters: [{ at: '2030-01-07T00:00:02.000Z', delivery: 'd2', client: 'app', user: 'usr_a', sid: 'sid-1', attempts: 10, error: 'HTTP 503' }],
    });
  });

  it('every control test run in the period, oldest first', () => {
    const r = complianceReport(input([
      ev('2030-01-09T00:00:00.000Z', { type: 'compliance.control_test', actor: 'system:schedule', user: 'syn', data: { outcome: 'fail', trigger: 'schedule', failures: ['not announced'], deadline: '2030-01-09T00:01:00.000Z', refusedLateMs: 5, announcedLateMs: null } }),
      ev('2030-01-08T00:00:00.000Z', { type: 'compliance.control_test', actor: 'user:bob', data: { outcome: 'pass', trigger: 'manual', failures: [], deadline: '2030-01-08T00:01:00.000Z', lastAliveMsBeforeDeadline: 3, refusedLateMs: 0, announcedLateMs: 40 } }),
    ], { syntheticUsers: ['syn'] }));
    expect(r.controlTests.runs).toBe(2);
    expect(r.controlTests.passed).toBe(1);
    expect(r.controlTests.failed).toBe(1);
    expect(r.controlTests.items.map((i) => [i.outcome, i.trigger, i.actor, i.lastAliveMsBeforeDeadline, i.refusedLateMs, i.announcedLateMs, i.failures])).toEqual([
      ['pass', 'manual', 'user:bob', 3, 0, 40, []],
      ['fail', 'schedule', 'system:schedule', null, 5, null, ['not announced']],
    ]);
  });

  it('the synthetic user\'s sessions and deliveries stay out of the org\'s figures', () => {
    const r = complianceReport(input([
      ev('2030-01-11T00:00:00.000Z', { type: 'session.started', user: 'syn', data: { scope: 'sso' } }),
      ended('2030-01-11T00:01:00.000Z', 'idle', 900000, 'syn'),
      ev('2030-01-11T00:01:01.000Z', { type: 'backchannel.delivered', user: 'syn', data: {} }),
      ended('2030-01-11T00:02:00.000Z', 'idle', 5, 'usr_a'),
    ], { syntheticUsers: ['syn'] }));
    expect(r.sessions.started.sso).toBe(0);
    expect(r.sessions.ended.byReason.idle).toBe(1);
    expect(r.lateEnds.idle.maxMs).toBe(5);
    expect(r.deliveries.delivered).toBe(0);
    expect(r.syntheticEventsExcluded).toBe(3);
  });
});
