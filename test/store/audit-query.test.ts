import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/types.ts';
import { isCurfewError } from '../../src/errors.ts';
import { auditBounds, compareIds, decodeCursor, encodeCursor, idMs, matchesAudit, toPage } from '../../src/store/audit-query.ts';

const record = (id: string, over: Partial<AuditRecord> = {}): AuditRecord => ({ id, at: new Date(idMs(id)).toISOString(), type: 'session.started', org: 'acme', ...over });

describe('audit queries', () => {
  it('round-trips a cursor, and refuses one that is not ours with invalid_cursor (400)', () => {
    expect(decodeCursor(encodeCursor('1700000000000-3'))).toBe('1700000000000-3');
    for (const bad of ['', 'garbage', encodeCursor('12-'), encodeCursor('a-1'), encodeCursor('1-2-3'), encodeCursor('99999999999999999-0'), encodeCursor('9007199254740993-0')]) {
      let error: unknown;
      try {
        decodeCursor(bad);
      } catch (e) {
        error = e;
      }
      expect(isCurfewError(error, 'invalid_cursor'), bad).toBe(true);
    }
  });

  it('orders ids numerically, past a sequence of 10', () => {
    expect(['5-10', '5-9', '4-11', '6-0'].sort(compareIds)).toEqual(['4-11', '5-9', '5-10', '6-0']);
    expect(idMs('1700000000123-7')).toBe(1700000000123);
  });

  it('bounds a query by cursor and since; a bad limit or since is a programming error, not a client\'s', () => {
    expect(auditBounds({ org: 'acme', limit: 10 })).toEqual({});
    expect(auditBounds({ org: 'acme', limit: 10, cursor: encodeCursor('10-1'), since: '2026-01-01T00:00:00Z' })).toEqual({ before: '10-1', sinceMs: Date.UTC(2026, 0, 1) });
    expect(() => auditBounds({ org: 'acme', limit: 0 })).toThrow(RangeError);
    expect(() => auditBounds({ org: 'acme', limit: 1.5 })).toThrow(RangeError);
    expect(() => auditBounds({ org: 'acme', limit: 1, since: 'yesterday' })).toThrow(RangeError);
  });

  it('matches on type, user and session, each only when asked', () => {
    const r = record('1-0', { type: 'session.ended', user: 'u1', session: 's1' });
    expect(matchesAudit(r, { org: 'acme', limit: 1 })).toBe(true);
    expect(matchesAudit(r, { org: 'acme', limit: 1, type: 'session.ended', user: 'u1', session: 's1' })).toBe(true);
    expect(matchesAudit(r, { org: 'acme', limit: 1, type: 'session.started' })).toBe(false);
    expect(matchesAudit(r, { org: 'acme', limit: 1, user: 'u2' })).toBe(false);
    expect(matchesAudit(r, { org: 'acme', limit: 1, session: 's2' })).toBe(false);
  });

  it('cuts a page of limit items, with a cursor to the next only when there is one', () => {
    const matches = ['5-0', '4-0', '3-0'].map((id) => record(id));
    expect(toPage(matches.slice(0, 2), 2)).toEqual({ items: matches.slice(0, 2) });
    const page = toPage(matches, 2);
    expect(page.items.map((r) => r.id)).toEqual(['5-0', '4-0']);
    expect(decodeCursor(page.nextCursor!)).toBe('4-0');
  });
});
