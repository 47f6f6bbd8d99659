import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { IdentifierHasher } from '../../crypto/identifier-hash.ts';
import type { ModelStore } from '../../store/types.ts';

export interface ConsoleSession {
  org: string;
  user: string;
  username: string;
  clientId: string;
  sid: string;
  idToken: string;
  csrf: string;
}

const MODEL = 'CurfewConsoleSession';
const COOKIE = 'curfew.console';

/**
 * The console's own sessions, server-side; the cookie holds only a random id (hashed in the
 * store). Indexed by `sid`, so Curfew's logout token for the console ends them.
 */
export function consoleSessions(models: ModelStore, hash: IdentifierHasher, ttlSeconds: number) {
  return {
    async create(ctx: Context, session: Omit<ConsoleSession, 'csrf'>): Promise<ConsoleSession> {
      const id = randomBytes(32).toString('base64url');
      const full = { ...session, csrf: randomBytes(32).toString('base64url') };
      await models.upsert(MODEL, hash(id), { ...full }, ttlSeconds, { uid: hash(`sid:${session.sid}`) });
      ctx.cookies.set(COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', path: '/admin', maxAge: ttlSeconds * 1000 });
      return full;
    },
    async load(ctx: Context): Promise<ConsoleSession | undefined> {
      const id = ctx.cookies.get(COOKIE, { signed: true });
      if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
      return (await models.find(MODEL, hash(id))) as ConsoleSession | undefined;
    },
    async destroy(ctx: Context): Promise<void> {
      const id = ctx.cookies.get(COOKIE, { signed: true });
      if (id) await models.destroy(MODEL, hash(id));
      ctx.cookies.set(COOKIE, null, { path: '/admin' });
    },
    /**
     * Back-channel logout: every console session of this sid ends. Records are keyed by cookie
     * ids only browsers hold, so the end is a marker every request of that sid checks.
     */
    async endSid(sid: string): Promise<boolean> {
      if (!(await models.findByUid(MODEL, hash(`sid:${sid}`)))) return false;
      await models.upsert(MODEL, hash(`sid-ended:${sid}`), { ended: true }, ttlSeconds, {});
      return true;
    },
    async ended(sid: string): Promise<boolean> {
      return Boolean(await models.find(MODEL, hash(`sid-ended:${sid}`)));
    },
  };
}

export type ConsoleSessions = ReturnType<typeof consoleSessions>;
