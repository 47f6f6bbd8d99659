import type { Context, Next } from 'koa';
import type { Logger } from '../logger.ts';
import { renderPage } from './views.ts';

export type CurfewErrorCode =
  | 'bad_request'
  | 'csrf_failed'
  | 'interaction_expired'
  | 'not_found'
  | 'invalid_client'
  | 'invalid_request'
  | 'rate_limited'
  | 'conflict'
  | 'temporarily_unavailable';

/**
 * An error a client caused. `status` < 500 and the message is safe to show; anything else
 * thrown is an internal failure whose detail goes to the log only.
 */
export class CurfewError extends Error {
  readonly code: CurfewErrorCode;
  readonly status: number;
  readonly expose: boolean;
  constructor(code: CurfewErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CurfewError';
    this.code = code;
    this.status = status;
    this.expose = status < 500;
  }
}

/** Seconds a client is asked to wait (`Retry-After`) while the store cannot answer. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The store could not answer (down, frozen, loading, restarting): nothing is known about the
 * session or client asked for, so nothing may be judged dead, missing or alive. Raised at the
 * store boundary only (src/store/store-unavailable.ts). It carries oidc-provider's error shape
 * as well (`statusCode`, `expose`, `message` = the OIDC error code, `error_description`,
 * `allow_redirect`), so the provider's own endpoints answer `503 temporarily_unavailable`
 * (RFC 6749 §4.1.2.1, §5.2) instead of `server_error`.
 */
export class StoreUnavailableError extends CurfewError {
  override readonly expose = true;
  readonly statusCode = 503;
  readonly error = 'temporarily_unavailable';
  readonly error_description = 'The service is briefly unavailable. Try again in a few seconds.';
  readonly allow_redirect = true;
  constructor(options?: { cause?: unknown }) {
    // oidc-provider reads `message` as the error code.
    super('temporarily_unavailable', 503, 'temporarily_unavailable', options);
    this.name = 'StoreUnavailableError';
  }
}

export const isStoreUnavailable = (error: unknown): error is StoreUnavailableError => error instanceof StoreUnavailableError;

/** A 400 that names every bad field, so a client fixes its request in one round. */
export class ValidationError extends CurfewError {
  readonly fields: Array<{ field: string; message: string }>;
  constructor(fields: Array<{ field: string; message: string }>, message = 'the request is invalid') {
    super('invalid_request', 400, message);
    this.name = 'ValidationError';
    this.fields = fields;
  }
}

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  error?: string;
  error_description?: string;
  message?: string;
}

function describe(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof StoreUnavailableError) return { status: 503, code: error.code, message: error.error_description };
  if (error instanceof CurfewError) return { status: error.status, code: error.code, message: error.message };
  const e = (typeof error === 'object' && error !== null ? error : {}) as HttpishError;
  const status = e.status ?? e.statusCode ?? 500;
  if (status < 500 && e.expose !== false) {
    // oidc-provider errors (SessionNotFound for an expired interaction…) and koa's http errors.
    return { status, code: e.error ?? 'bad_request', message: e.error_description ?? e.message ?? 'Bad request' };
  }
  return { status: 500, code: 'server_error', message: 'Something went wrong on our side. Please try again.' };
}

const wantsJson = (ctx: Context) =>
  ctx.path.startsWith('/session/') || ctx.path.startsWith('/admin/api/') || ctx.accepts('html', 'json') === 'json';

/** One place turns errors of Curfew's own routes into responses: HTML pages or JSON bodies. */
export function errorHandler(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (error) {
      const { status, code, message } = describe(error);
      if (isStoreUnavailable(error)) logger.warn({ path: ctx.path, cause: (error.cause as Error | undefined)?.message }, 'store unavailable; answered 503');
      else if (status >= 500) logger.error({ err: error, path: ctx.path }, 'request failed');
      else logger.debug({ code, path: ctx.path }, message);
      if (wantsJson(ctx)) {
        ctx.status = status;
        if (status === 401) ctx.set('WWW-Authenticate', `Basic realm="curfew", error="${code}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: code, error_description: message, ...(error instanceof ValidationError ? { fields: error.fields } : {}) };
      } else {
        renderPage(ctx, 'error', { title: status === 503 ? 'Briefly unavailable' : status >= 500 ? 'Something went wrong' : 'This request could not be completed', message, code }, status);
      }
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
