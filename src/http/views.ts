import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Context } from 'koa';
import { statusOf, type CurfewErrorCode } from '../errors.ts';

const VIEWS = fileURLToPath(new URL('../../views', import.meta.url));

/** Templates auto-escape every interpolation; raw output (`<%~ %>`) is reserved for markup we built. */
const eta = new Eta({ views: VIEWS, autoEscape: true, cache: true });

/**
 * A policy for Curfew's own pages: no inline script and no third-party origin, so an injected
 * string can never run. oidc-provider's own responses (form_post) carry their own policy.
 */
const CSP = "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'";

export function setPageHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Cache-Control', 'no-store');
}

/**
 * A page; one that answers a refusal in its own words (a form shown again with what was wrong)
 * names the refusal's code, and its status comes from the error table like every error's.
 */
export function renderPage(ctx: Context, view: string, data: Record<string, unknown>, refusal?: CurfewErrorCode): void {
  sendPage(ctx, view, data, refusal === undefined ? 200 : statusOf(refusal));
}

/** Writes a page with a status: for renderPage, and for the error renderer (src/http/errors.ts), which also answers libraries' statuses. */
export function sendPage(ctx: Context, view: string, data: Record<string, unknown>, status: number): void {
  setPageHeaders(ctx);
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = eta.render(view, data);
}
