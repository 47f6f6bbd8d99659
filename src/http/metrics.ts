import type { Context, Next } from 'koa';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Seconds from a session's deadline (or end) to its logout token being queued / delivered. */
  logoutLag: Histogram<'stage'>;
  middleware: (ctx: Context, next: Next) => Promise<void>;
}

/** Route label without ids, so label cardinality stays bounded. */
function routeLabel(path: string): string {
  if (path.startsWith('/interaction/')) return '/interaction/:uid' + (path.split('/').length > 3 ? '/' + path.split('/')[3] : '');
  if (path.startsWith('/static/')) return '/static';
  if (path.startsWith('/token/') || path.startsWith('/session/end/')) return path.split('/').slice(0, 3).join('/');
  return path.length > 64 ? 'other' : path.replace(/[^\w/.-]/g, '');
}

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
      const route = routeLabel(ctx.path);
      const end = duration.startTimer({ method: ctx.method, route });
      try {
        await next();
      } finally {
        end();
        requests.inc({ method: ctx.method, route, status: String(ctx.status) });
      }
    },
  };
}
