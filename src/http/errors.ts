import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import { CurfewError, isCurfewError, isStoreUnavailable, RETRY_AFTER_SECONDS, type FieldError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { sendPage } from './views.ts';

/**
 * The one place an error becomes a response, in one of three shapes:
 * - `oidc`: OIDC/OAuth error JSON `{ error, error_description }` (RFC 6749 §5.2), for Curfew's
 *   session endpoints and its RPs' back-channel receivers. oidc-provider's own endpoints render
 *   the same shape themselves, from StoreUnavailableError's provider fields (src/errors.ts).
 * - `admin`: the admin API's JSON, `{ error, error_description, fields? }`.
 * - `page`: the HTML error page.
 * Statuses come from the error (Curfew's from ERROR_STATUS), never from the caller.
 */
export type ErrorSurface = 'oidc' | 'admin' | 'page';

/** What a client may learn of an error. */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  fields?: FieldError[];
  retryAfterSeconds?: number;
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

const INTERNAL: ErrorAnswer = { status: 500, code: 'server_error', message: 'Something went wrong on our side. Please try again.' };

/**
 * Curfew's errors answer by their code; a library's (oidc-provider's SessionNotFound for an
 * expired interaction, koa's body-parser 413/415) by the status it exposes; anything else is a
 * bug, answered with a generic 500 whose cause goes to the log only.
 */
export function answerFor(error: unknown): ErrorAnswer {
  if (isCurfewError(error)) {
    return {
      status: error.status,
      code: error.code,
      message: error.publicMessage,
      ...(error.fields && error.expose ? { fields: error.fields } : {}),
      ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as HttpishError;
  const status = e.status ?? e.statusCode ?? 500;
  if (status < 500 && e.expose !== false) {
    return { status, code: e.error ?? 'bad_request', message: e.error_description ?? e.message ?? 'Bad request' };
  }
  return INTERNAL;
}

export const oidcErrorBody = (a: ErrorAnswer) => ({ error: a.code, error_description: a.message });

export const adminErrorBody = (a: ErrorAnswer) => ({ ...oidcErrorBody(a), ...(a.fields ? { fields: a.fields } : {}) });

const PAGE_TITLE = (status: number) => (status === 503 ? 'Briefly unavailable' : status >= 500 ? 'Something went wrong' : 'This request could not be completed');

/** RFC 6750 §3 for the admin API's bearer tokens; RFC 6749 §5.2 (Basic) for client authentication. */
function challenge(a: ErrorAnswer): string | undefined {
  if (a.code === 'invalid_token' || a.code === 'insufficient_scope') return `Bearer realm="curfew-admin", error="${a.code}", error_description="${a.message}"`;
  if (a.status === 401) return `Basic realm="curfew", error="${a.code}"`;
  return undefined;
}

/** Answers `error` on `surface`; the status, Retry-After and challenge all come from the error. */
export function sendError(ctx: Context, error: unknown, surface: ErrorSurface): ErrorAnswer {
  const a = answerFor(error);
  if (a.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(a.retryAfterSeconds));
  if (surface === 'page') {
    sendPage(ctx, 'error', { title: PAGE_TITLE(a.status), message: a.message, code: a.code }, a.status);
    return a;
  }
  ctx.status = a.status;
  const www = challenge(a);
  if (www) ctx.set('WWW-Authenticate', www);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = surface === 'admin' ? adminErrorBody(a) : oidcErrorBody(a);
  return a;
}

/**
 * oidc-provider's `renderError` hook: the provider's own errors (it has set the status) as
 * Curfew's error page — the same page, title and headers as Curfew's routes answer with.
 */
export function renderProviderError(ctx: Context, out: { error: string; error_description?: string }): void {
  sendPage(ctx, 'error', { title: PAGE_TITLE(ctx.status), message: out.error_description ?? 'The request could not be completed.', code: out.error }, ctx.status);
}

/** Which shape a request's errors take: by the API it called, else by what it accepts. */
function surfaceOf(ctx: Context): ErrorSurface {
  if (ctx.path.startsWith('/session/')) return 'oidc';
  if (ctx.path.startsWith('/admin/api/') || ctx.accepts('html', 'json') === 'json') return 'admin';
  return 'page';
}

/** Catches every error of Curfew's own routes, logs it by its kind and answers it. */
export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const { status, code, message } = sendError(ctx, error, surfaceOf(ctx));
      if (isStoreUnavailable(error)) logger.warn({ path: ctx.path, cause: (error.cause as Error | undefined)?.message }, 'store unavailable; answered 503');
      else if (status >= 500) logger.error({ err: error, path: ctx.path }, 'request failed');
      else logger.debug({ code, path: ctx.path, ...(isCurfewError(error) && error.detail ? { detail: error.detail } : {}) }, message);
    }
  };
}

/**
 * Every 503, whoever answered it (Curfew's routes, the provider's endpoints, readiness), tells
 * the client when to come back: an outage is a pause, not an answer about the session.
 */
export async function retryAfterOnUnavailable(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.status === 503 && !ctx.response.get('Retry-After')) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
}

/**
 * A request Node's HTTP parser refused before any route saw it (Node's `clientError`): answered
 * on the raw socket, in the OAuth error shape, with the status of its code, then closed.
 */
export function answerUnparsableRequest(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const a = answerFor(new CurfewError(error.code === 'HPE_HEADER_OVERFLOW' ? 'headers_too_large' : 'invalid_request', error.code === 'HPE_HEADER_OVERFLOW' ? undefined : 'the request is not valid HTTP'));
  const body = JSON.stringify(oidcErrorBody(a));
  socket.end(`HTTP/1.1 ${a.status} ${STATUS_CODES[a.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
