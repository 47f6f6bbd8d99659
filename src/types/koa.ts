import type { Context } from 'koa';
import type { AdminPrincipal } from '../admin/auth.ts';
import type { ConsoleSession } from '../admin/console/console-sessions.ts';
import type { SessionStatus } from '../sessions/service.ts';

/**
 * What Curfew's middleware leaves in `ctx.state`, declared once. Each field is optional because
 * only the routes behind its middleware have it; read it with the getters below, which turn a
 * route mounted without its middleware into a clear error instead of an `undefined` read later.
 */
declare module 'koa' {
  interface DefaultState {
    /** Set by `requireAdminToken` (src/admin/auth.ts): the org and actor of an admin API call. */
    admin?: AdminPrincipal;
    /** Set by the console's `requireConsole`: the signed-in console session … */
    console?: ConsoleSession;
    /** … and its RP session's status, shown on every page. */
    consoleStatus?: SessionStatus;
  }
}

/** A route read state its middleware never set: a wiring mistake in Curfew, never the client's. */
export class MissingStateError extends Error {
  constructor(field: string, middleware: string) {
    super(`ctx.state.${field} is unset: the route is not behind ${middleware}`);
    this.name = 'MissingStateError';
  }
}

/** The admin API caller; only behind `requireAdminToken`. */
export function adminOf(ctx: Context): AdminPrincipal {
  const admin = ctx.state.admin;
  if (!admin) throw new MissingStateError('admin', 'requireAdminToken');
  return admin;
}

/** The console's signed-in session; only behind `requireConsole`. */
export function consoleOf(ctx: Context): ConsoleSession {
  const session = ctx.state.console;
  if (!session) throw new MissingStateError('console', 'requireConsole');
  return session;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The parsed body as fields (a form, or a JSON object); anything else, or no body, is no fields. */
export function bodyFields(ctx: Context): Record<string, unknown> {
  const body = ctx.request.body;
  return isRecord(body) ? body : {};
}
