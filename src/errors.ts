/**
 * Curfew's one error model. Whatever refuses a request (a route, an operation, the store) throws
 * a CurfewError naming a code; the code alone decides the HTTP status, from ERROR_STATUS below,
 * and one module (src/http/errors.ts) renders it as OIDC error JSON, admin API JSON or an HTML
 * page. This module imports nothing, so the domain and the store can throw without knowing HTTP.
 */

/** Every code Curfew answers with, and its status: the only place Curfew's error statuses live. */
export const ERROR_STATUS = {
  /** A parameter or field is missing or wrong; with `fields` when the request named them. */
  invalid_request: 400,
  /** A username and password (or a code) that do not sign in; says nothing about which was wrong. */
  invalid_credentials: 400,
  /** An audit cursor that is not one Curfew handed out; restarting at the newest page would loop a client. */
  invalid_cursor: 400,
  bad_request: 400,
  /** The sign-in (interaction) this page belongs to is over or is another one. */
  interaction_expired: 400,
  /** Client authentication (RFC 6749 §5.2) failed. */
  invalid_client: 401,
  /** The bearer token is missing, expired or names no client (RFC 6750 §3.1). */
  invalid_token: 401,
  /** The token or console session may not do this (RFC 6750 §3.1). */
  insufficient_scope: 403,
  csrf_failed: 403,
  /** Who signed in may not be here (not an admin, no second factor and none may be enrolled). */
  access_denied: 403,
  not_found: 404,
  /** The request would break a uniqueness rule, or the thing is not in a state that allows it. */
  conflict: 409,
  /** A body over the endpoint's size limit (the `bodyLimits` settings). */
  payload_too_large: 413,
  /** Request headers (or the URL) larger than Node's HTTP parser takes. */
  headers_too_large: 431,
  /** Too many attempts; `retryAfterSeconds` says when to come back. */
  rate_limited: 429,
  /** The store could not answer: nothing is known, so nothing is judged (RFC 6749 §4.1.2.1, §5.2). */
  temporarily_unavailable: 503,
} as const satisfies Record<string, number>;

export type CurfewErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[CurfewErrorCode];

export const statusOf = (code: CurfewErrorCode): ErrorStatus => ERROR_STATUS[code];

/** What a client reads when the throw site gave no words of its own. */
const PUBLIC_MESSAGE: Record<CurfewErrorCode, string> = {
  invalid_request: 'the request is invalid',
  invalid_credentials: 'Invalid username or password.',
  invalid_cursor: 'the audit cursor is not valid; use nextCursor from a previous page',
  payload_too_large: 'the request body is too large',
  headers_too_large: 'the request headers (or the URL) are too large',
  bad_request: 'Bad request',
  interaction_expired: 'This sign-in page has expired. Go back to the application and sign in again.',
  invalid_client: 'client authentication failed',
  invalid_token: 'the access token is invalid or expired',
  insufficient_scope: 'the access token does not allow this',
  csrf_failed: 'The form could not be verified. Reload the page and try again.',
  access_denied: 'You may not use this page.',
  not_found: 'not found',
  conflict: 'the request conflicts with the current state',
  rate_limited: 'too many requests; retry later',
  temporarily_unavailable: 'The service is briefly unavailable. Try again in a few seconds.',
};

/** One bad field of a request, named the way the client sent it (`rules.0.name`). */
export interface FieldError {
  field: string;
  message: string;
}

export interface CurfewErrorOptions {
  /** For the log only (never rendered): what an operator needs to know that the client must not see. */
  detail?: string;
  /** Every bad field, so a client fixes its request in one round. */
  fields?: FieldError[];
  /** Rendered as `Retry-After`. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A refusal Curfew names. `message` is public (rendered to the client); `detail` and `cause` go to
 * the log only. `expose` is false for 5xx: such a body stays generic whatever the message says.
 */
export class CurfewError extends Error {
  readonly code: CurfewErrorCode;
  readonly status: ErrorStatus;
  readonly expose: boolean;
  readonly detail: string | undefined;
  readonly fields: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: CurfewErrorCode, message: string = PUBLIC_MESSAGE[code], options: CurfewErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CurfewError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.expose = this.status < 500;
    this.detail = options.detail;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** The words a client reads: a 5xx says only what its code means, whatever the thrower wrote. */
  get publicMessage(): string {
    return this.expose ? this.message : PUBLIC_MESSAGE[this.code];
  }
}

export const isCurfewError = (error: unknown, code?: CurfewErrorCode): error is CurfewError =>
  error instanceof CurfewError && (code === undefined || error.code === code);

/** `invalid_request` naming every bad field (the code that always carries `fields`). */
export class ValidationError extends CurfewError {
  declare readonly fields: FieldError[];
  constructor(fields: FieldError[], message = PUBLIC_MESSAGE.invalid_request) {
    super('invalid_request', message, { fields });
    this.name = 'ValidationError';
  }
}

/** `conflict` from a directory write that would break a uniqueness rule (username per org, client_id). */
export class ConflictError extends CurfewError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('conflict', message, { fields: [{ field, message }] });
    this.name = 'ConflictError';
    this.field = field;
  }
}

/** Seconds a client is asked to wait (`Retry-After`) while the store cannot answer. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * `temporarily_unavailable`: the store could not answer (down, frozen, loading, restarting), so
 * nothing is known about the session or client asked for and nothing may be judged dead, missing
 * or alive. Raised at the store boundary only (src/store/store-unavailable.ts). It reaches
 * oidc-provider's own endpoints too, so it carries the provider's error shape as well
 * (`statusCode`, `expose`, `message` = the OIDC error code, `error_description`, `allow_redirect`):
 * the provider answers `503 temporarily_unavailable` instead of `server_error`. The status is
 * still the table's.
 */
export class StoreUnavailableError extends CurfewError {
  override readonly expose = true;
  readonly statusCode = ERROR_STATUS.temporarily_unavailable;
  readonly error = 'temporarily_unavailable';
  readonly error_description = PUBLIC_MESSAGE.temporarily_unavailable;
  readonly allow_redirect = true;
  constructor(options?: { cause?: unknown }) {
    // oidc-provider reads `message` as the error code.
    super('temporarily_unavailable', 'temporarily_unavailable', { retryAfterSeconds: RETRY_AFTER_SECONDS, ...(options?.cause === undefined ? {} : { cause: options.cause }) });
    this.name = 'StoreUnavailableError';
  }

  override get publicMessage(): string {
    return this.error_description;
  }
}

export const isStoreUnavailable = (error: unknown): error is StoreUnavailableError => error instanceof StoreUnavailableError;
