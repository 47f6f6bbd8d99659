import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleSessions } from '../../../src/admin/console/console-sessions.ts';
import { ManualClock } from '../../../src/clock.ts';
import { createIdentifierHasher } from '../../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../../src/store/memory/index.ts';
import type { Store } from '../../../src/store/types.ts';
import { serve } from '../../support/serve.ts';

const TTL = 3600;
const SESSION = { org: 'acme', user: 'u-alice', username: 'alice', clientId: 'curfew-console-acme', sid: 'sid-1', idToken: 'id.token.x' };

describe('console sessions', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let store: Store;
  let clock: ManualClock;
  let sessions: ReturnType<typeof consoleSessions>;
  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    store = createMemoryStore({ clock });
    sessions = consoleSessions(store.models, createIdentifierHasher('k'.repeat(32)), TTL);
    const app = new Koa();
    app.keys = ['cookie-signing-key-0123456789abcdef'];
    app.use(async (ctx) => {
      if (ctx.path === '/admin/create') ctx.body = await sessions.create(ctx, { ...SESSION, sid: String(ctx.query.sid ?? SESSION.sid) });
      else if (ctx.path === '/admin/load') ctx.body = (await sessions.load(ctx)) ?? { none: true };
      else if (ctx.path === '/admin/destroy') {
        await sessions.destroy(ctx);
        ctx.body = { destroyed: true };
      }
    });
    server = await serve(app);
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  const load = async (cookie: string) => (await (await fetch(`${server.url}/admin/load`, { headers: { cookie } })).json()) as Record<string, unknown>;
  async function create(sid = SESSION.sid) {
    const res = await fetch(`${server.url}/admin/create?sid=${sid}`);
    return { res, cookie: cookiesOf(res), body: (await res.json()) as Record<string, string> };
  }

  it('creates a session with a fresh CSRF token; the cookie is signed, httpOnly, lax, for /admin only, and holds only a random id', async () => {
    const { res, body } = await create();
    expect(body).toMatchObject(SESSION);
    expect(body.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [cookie, signature] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^curfew\.console=[A-Za-z0-9_-]{43}; path=\/admin; expires=.*; samesite=lax; httponly$/);
    expect(signature).toMatch(/^curfew\.console\.sig=/);
    expect(cookie).not.toContain(body.csrf);
    expect(cookie).not.toContain('alice');
    expect((await create()).body.csrf).not.toBe(body.csrf);
  });

  it('loads the session from its cookie; a forged, unsigned or malformed cookie loads nothing', async () => {
    const { cookie, body } = await create();
    expect(await load(cookie)).toEqual(body);
    const id = /curfew\.console=([^;]+)/.exec(cookie)![1]!;
    expect(await load(`curfew.console=${id}`)).toEqual({ none: true });
    expect(await load(cookie.replace(id, `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`))).toEqual({ none: true });
    expect(await load('curfew.console=short; curfew.console.sig=x')).toEqual({ none: true });
    expect(await load('')).toEqual({ none: true });
  });

  it('lives until its TTL, not 1 ms past it', async () => {
    const { cookie } = await create();
    const start = clock.now();
    clock.set(start + TTL * 1000 - 1);
    expect(await load(cookie)).toMatchObject({ user: 'u-alice' });
    clock.set(start + TTL * 1000);
    expect(await load(cookie)).toEqual({ none: true });
    clock.set(start);
  });

  it('is destroyed with its cookie cleared', async () => {
    const { cookie } = await create();
    const res = await fetch(`${server.url}/admin/destroy`, { headers: { cookie } });
    expect(res.headers.getSetCookie()[0]).toMatch(/^curfew\.console=; path=\/admin; expires=Thu, 01 Jan 1970/);
    expect(await load(cookie)).toEqual({ none: true });
  });

  it('ends by sid on back-channel logout: every session of that sid reads ended, others do not; an unknown sid is not ended', async () => {
    await create('sid-bcl');
    await create('sid-bcl');
    await create('sid-other');
    expect(await sessions.ended('sid-bcl')).toBe(false);
    expect(await sessions.endSid('sid-bcl')).toBe(true);
    expect(await sessions.ended('sid-bcl')).toBe(true);
    expect(await sessions.ended('sid-other')).toBe(false);
    expect(await sessions.endSid('sid-never')).toBe(false);
    expect(await sessions.ended('sid-never')).toBe(false);
  });
});
