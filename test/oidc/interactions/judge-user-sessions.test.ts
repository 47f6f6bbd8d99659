import { describe, expect, it } from 'vitest';
import { judgeUserSessions } from '../../../src/oidc/interactions/judge-user-sessions.ts';
import { enforcementWorld, IDLE_SECONDS } from '../enforcement/world.ts';

const MIN = 60_000;

/** alice's sessions s1 (signed in at t0) and s2 (5 minutes later); carol's c1 (at t0). */
async function world() {
  const w = await enforcementWorld();
  const t0 = w.clock.now();
  await w.signIn('s1');
  await w.signIn('c1', ['rp'], w.otherUser);
  w.clock.advance(5 * MIN);
  await w.signIn('s2');
  const deps = { sessions: w.sessions, sessionKeysOfUser: w.store.sessions.keysOfUser };
  /** Moves the clock to s1's (and c1's) idle deadline plus `ms`. */
  const atFirstDeadline = (ms = 0) => w.clock.set(t0 + IDLE_SECONDS * 1000 + ms);
  return { ...w, deps, atFirstDeadline };
}

describe('judging every session of a user before a sign-in (src/oidc/interactions/judge-user-sessions.ts)', () => {
  it('ends nothing 1 ms before a session\'s idle deadline', async () => {
    const w = await world();
    w.atFirstDeadline(-1);
    await judgeUserSessions(w.deps, 'alice');
    expect(w.ended).toEqual([]);
    expect(await w.sessions.get('s1')).toBeDefined();
    expect(await w.sessions.get('s2')).toBeDefined();
  });

  it('ends, at its deadline, the user\'s session past it — without a sweeper — and only that one', async () => {
    const w = await world();
    w.atFirstDeadline();
    await judgeUserSessions(w.deps, 'alice');
    expect(w.ended.map((e) => [e.scope, e.reason, e.session.user])).toEqual([['sso', 'idle', 'alice']]);
    expect(await w.sessions.get('s1')).toBeUndefined();
    expect(await w.sessions.get('s2')).toBeDefined();
    // Another user's session past its deadline is left to its own sign-in or the sweeper.
    expect(await w.store.sessions.keysOfUser('carol')).toHaveLength(1);
  });

  it('judges without touching: a live session\'s deadline does not move', async () => {
    const w = await world();
    w.atFirstDeadline(-1);
    await judgeUserSessions(w.deps, 'alice');
    w.atFirstDeadline();
    await judgeUserSessions(w.deps, 'alice');
    expect(await w.sessions.get('s1')).toBeUndefined();
  });

  it('does nothing for a user without sessions', async () => {
    const w = await world();
    w.atFirstDeadline(IDLE_SECONDS * 1000);
    await judgeUserSessions(w.deps, 'nobody');
    expect(w.ended).toEqual([]);
  });
});
