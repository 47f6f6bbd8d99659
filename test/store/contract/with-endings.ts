import type { SessionStore } from '../../../src/store/types.ts';
import type { NewRpSession, NewSsoSession } from '../../../src/sessions/types.ts';

/**
 * The session store with `login` and `addRp` given a fresh outbox entry per call (what the
 * session service does), for suites about other things than the replaced session's end.
 */
export function withEndings(sessions: SessionStore) {
  const fresh = (key: string) => ({ id: sessions.endingId(key), leaseMs: 30_000 });
  return {
    ...sessions,
    login: (key: string, session: NewSsoSession) => sessions.login(key, session, fresh(key)),
    addRp: (key: string, rp: NewRpSession) => sessions.addRp(key, rp, fresh(key)),
  };
}
