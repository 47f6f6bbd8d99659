import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Seconds from a session's deadline (or end) to its logout token being queued / delivered. */
  logoutLag: Histogram<'stage'>;
  middleware: (ctx: Context, next: Next) => Promise<void>;
}

/**
 * The route label is a template the code declares — the matched path of a Curfew or provider
 * router (`/interaction/:uid`, `/token`) — and `other` for anything no route matched. Never the request path: every junk path would become a new label set that
 * lives as long as the process (audit: 40 000 requests, +100 MiB RSS).
 */
function routeLabel(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return 'other';
}

/** Node accepts a fixed set of methods; anything unusual still gets one label, not one each. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const methodLabel = (method: string) => (METHODS.has(method) ? method : 'other');

/** One registry per app instance, so several instances in one test process do not collide. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'curfew_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'curfew_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const logoutLag = new Histogram({
    name: 'curfew_backchannel_lag_seconds',
    help: 'From a session end (its deadline, for timeouts) to its logout token being enqueued or delivered',
    labelNames: ['stage'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  return {
    registry,
    logoutLag,
    async middleware(ctx, next) {
      const method = methodLabel(ctx.method);
      const end = duration.startTimer({ method });
      try {
        await next();
      } finally {
        // Labelled after the routers ran: only then is the matched route known.
        const route = routeLabel(ctx);
        end({ route });
        requests.inc({ method, route, status: String(ctx.status) });
      }
    },
  };
}
