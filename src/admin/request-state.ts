import type { Context } from 'koa';
import type { AdminPrincipal } from './auth.ts';
import type { ConsoleSession } from './console/console-sessions.ts';

// ctx.state's fields are declared once, in src/types/koa.ts. Each is optional because only the
// routes behind its middleware have it; these getters turn a route mounted without its
// middleware into a clear error instead of an `undefined` read later.

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
