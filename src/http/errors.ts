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
  | 'conflict';

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
      if (status >= 500) logger.error({ err: error, path: ctx.path }, 'request failed');
      else logger.debug({ code, path: ctx.path }, message);
      if (wantsJson(ctx)) {
        ctx.status = status;
        if (status === 401) ctx.set('WWW-Authenticate', `Basic realm="curfew", error="${code}"`);
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { error: code, error_description: message, ...(error instanceof ValidationError ? { fields: error.fields } : {}) };
      } else {
        renderPage(ctx, 'error', { title: status >= 500 ? 'Something went wrong' : 'This request could not be completed', message, code }, status);
      }
    }
  };
}
