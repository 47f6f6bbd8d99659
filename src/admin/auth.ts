import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import type { ConsoleSessions } from './console/console-sessions.ts';
import type { SessionService } from '../sessions/service.ts';
import type { DirectoryStore } from '../store/types.ts';
import { mayAdminister } from './console/console-admin.ts';
import { CurfewError } from '../errors.ts';

export interface AdminPrincipal {
  org: string;
  /** Who acts, as recorded in the audit: `client:<client_id>`. */
  actor: string;
}

declare module 'koa' {
  interface DefaultState {
    admin?: AdminPrincipal;
  }
}

/** RFC 6750 §3.1: the renderer answers these with their Bearer challenge. */
const deny = (error: 'invalid_token' | 'insufficient_scope', description: string) => new CurfewError(error, description);

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

export interface ConsoleAuth {
  consoleSessions: ConsoleSessions;
  sessions: SessionService;
  directory: DirectoryStore;
}

/**
 * SPEC §11: the admin API takes bearer tokens Curfew issued itself — client credentials of a
 * client flagged `adminApi`, with scope `admin` — or the console's own session, whose writes
 * must carry its CSRF token in `X-CSRF-Token`. Either fixes the org the caller may act on.
 */
export function requireAdminToken(provider: Provider, console?: ConsoleAuth) {
  return async function adminToken(ctx: Context, next: Next): Promise<void> {
    const match = /^Bearer\s+([A-Za-z0-9._~+/-]+=*)\s*$/i.exec(ctx.get('authorization'));
    if (!match && console && !ctx.get('authorization')) {
      const session = await console.consoleSessions.load(ctx);
      if (session && !(await console.consoleSessions.ended(session.sid))) {
        // A user demoted or disabled since signing in holds a cookie, not authority.
        if (!mayAdminister(await console.directory.getUser(session.user), session.org)) {
          throw deny('insufficient_scope', 'the console session\'s user is no longer an admin of this organization');
        }
        const status = await console.sessions.statusBySid(session.sid, session.clientId, 'active');
        if (status.active) {
          if (!SAFE.has(ctx.method) && !same(ctx.get('x-csrf-token'), session.csrf)) {
            throw deny('insufficient_scope', 'the console session\'s X-CSRF-Token header is required for writes');
          }
          ctx.state.admin = { org: session.org, actor: `user:${session.user}` };
          return next();
        }
      }
    }
    if (!match) throw deny('invalid_token', 'a bearer access token is required');
    const token = await provider.ClientCredentials.find(match[1]!);
    if (!token || token.isExpired) throw deny('invalid_token', 'the access token is invalid or expired');
    const client = token.clientId ? await provider.Client.find(token.clientId) : undefined;
    if (!client) throw deny('invalid_token', 'the access token\'s client no longer exists');
    if (!client.adminApi || !String(token.scope ?? '').split(' ').includes('admin')) {
      throw deny('insufficient_scope', 'the admin scope is required');
    }
    ctx.state.admin = { org: String(client.org), actor: `client:${client.clientId}` };
    await next();
  };
}
