import { describe, expect, it } from 'vitest';
import { decode, delivery, endedEntry, json, list, map, num, queueCensus, ReplyShapeError, sessionCheck, ssoSession } from '../../../src/store/redis/decode.ts';

const session = { id: 'uid-1', org: 'acme', user: 'usr_a', signedInAt: 1, lastActiveAt: 2, idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 60, refreshIsActivity: false, rps: {} };

describe('the decoder at the Lua boundary', () => {
  it("reads cjson's empty tables as what TypeScript expects: {} as an empty list, [] as an empty map", () => {
    expect(decode(list(num), {}, 'x')).toEqual([]);
    expect(decode(map(num), [], 'x')).toEqual({});
    expect(decode(ssoSession, { ...session, rps: [], activity: [] }, 's')).toEqual({ ...session, rps: {}, activity: {} });
  });

  it('refuses a reply of another shape, naming the path that is wrong', () => {
    expect(() => decode(ssoSession, { ...session, rps: { wiki: { client: 'wiki' } } }, 'session_check')).toThrow(ReplyShapeError);
    expect(() => decode(ssoSession, { ...session, rps: { wiki: { client: 'wiki' } } }, 'session_check')).toThrow(/session_check\.rps\.wiki\.sid should be a string/);
    expect(() => sessionCheck(JSON.stringify({ now: 1, sso: 'zombie' }), 'check')).toThrow(/check\.sso should be alive \| dead \| missing/);
    expect(() => sessionCheck('not json', 'check')).toThrow(/check should be JSON/);
    expect(() => decode(delivery, { id: 'd' }, 'delivery d')).toThrow(/delivery d\.org/);
  });

  it('leaves absent optional fields out, and drops fields it does not know', () => {
    expect(decode(json(ssoSession), JSON.stringify({ ...session, ip: null, extra: 1 }), 's')).toEqual(session);
  });

  it('builds a check with its deadlines, and an outbox entry with its queued flag', () => {
    expect(sessionCheck(JSON.stringify({ now: 5, sso: 'alive', session, idleAt: 10, absoluteAt: 20 }), 'c')).toEqual({ now: 5, sso: 'alive', session, deadlines: { idleAt: 10, absoluteAt: 20 } });
    const entry = { id: 'e', reason: 'idle', scope: 'sso', session, rps: {}, endedAt: 3 };
    expect(endedEntry(JSON.stringify(entry), '1', 'e')).toEqual({ ...entry, rps: [], queued: true });
    expect(() => endedEntry(JSON.stringify({ ...entry, reason: 'bored' }), '0', 'e')).toThrow(/e\.reason/);
  });

  it('reads a census reply, with or without a due member', () => {
    expect(queueCensus(['100', 3, 1, ['k', '90']], 'q')).toEqual({ now: 100, size: 3, due: 1, oldestDueAt: 90 });
    expect(queueCensus(['100', 0, 0, []], 'q')).toEqual({ now: 100, size: 0, due: 0 });
    expect(() => queueCensus(['soon', 0, 0, []], 'q')).toThrow(/q\.now/);
  });
});
