import type { AdminPrincipal } from '../admin/auth.ts';
import type { ConsoleSession } from '../admin/console/console-sessions.ts';
import type { SessionStatus } from '../sessions/service.ts';

/**
 * What Curfew's middleware leaves in `ctx.state`, declared once. Each field is optional because
 * only the routes behind its middleware have it; routes read it with the getters of
 * src/admin/request-state.ts. An ambient declaration that no module imports: it names the domains'
 * types, and nothing in src/ depends on it, so types/ sits above the domains, never in a cycle.
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
