import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  CurfewError,
  ERROR_STATUS,
  isCurfewError,
  isStoreUnavailable,
  RETRY_AFTER_SECONDS,
  statusOf,
  StoreUnavailableError,
  ValidationError,
  type CurfewErrorCode,
} from '../src/errors.ts';
import { decodeCursor } from '../src/store/audit-query.ts';

const CODES = Object.keys(ERROR_STATUS) as CurfewErrorCode[];

describe('the code → status table', () => {
  it('answers each refusal with its status', () => {
    expect(ERROR_STATUS).toEqual({
      invalid_request: 400,
      invalid_credentials: 400,
      invalid_cursor: 400,
      bad_request: 400,
      interaction_expired: 400,
      invalid_client: 401,
      invalid_token: 401,
      insufficient_scope: 403,
      csrf_failed: 403,
      access_denied: 403,
      not_found: 404,
      conflict: 409,
      payload_too_large: 413,
      headers_too_large: 431,
      rate_limited: 429,
      temporarily_unavailable: 503,
    });
  });

  it.each(CODES)('%s: the error takes its status from the table, not from its thrower', (code) => {
    const error = new CurfewError(code);
    expect(error.status).toBe(ERROR_STATUS[code]);
    expect(statusOf(code)).toBe(ERROR_STATUS[code]);
    expect(error.expose).toBe(ERROR_STATUS[code] < 500);
    // Every code has public words of its own for a thrower that gives none.
    expect(error.publicMessage.length).toBeGreaterThan(0);
  });
});

describe('CurfewError', () => {
  it('keeps the detail for the log: never in the public message', () => {
    const error = new CurfewError('not_found', 'client not found', { detail: 'client acme-app belongs to org other, asked by org acme' });
    expect(error.publicMessage).toBe('client not found');
    expect(error.message).not.toContain('other');
    expect(error.detail).toContain('org other');
    expect(JSON.stringify({ message: error.publicMessage, fields: error.fields })).not.toContain('other');
  });

  it('says only what the code means when it is a 5xx, whatever the thrower wrote', () => {
    const error = new CurfewError('temporarily_unavailable', 'ECONNREFUSED 10.0.0.7:6379');
    expect(error.expose).toBe(false);
    expect(error.publicMessage).not.toContain('10.0.0.7');
  });

  it('narrows by code', () => {
    const error: unknown = new CurfewError('conflict', 'taken');
    expect(isCurfewError(error)).toBe(true);
    expect(isCurfewError(error, 'conflict')).toBe(true);
    expect(isCurfewError(error, 'not_found')).toBe(false);
    expect(isCurfewError(new Error('conflict'))).toBe(false);
  });

  it('keeps the cause for the log', () => {
    const cause = new Error('root');
    expect(new CurfewError('interaction_expired', undefined, { cause }).cause).toBe(cause);
  });
});

describe('the codes that carry data', () => {
  it('a validation error is invalid_request naming every bad field', () => {
    const error = new ValidationError([{ field: 'since', message: 'not a date' }, { field: 'format', message: 'csv or json' }], 'the report period is invalid');
    expect(error).toBeInstanceOf(CurfewError);
    expect(error).toMatchObject({ code: 'invalid_request', status: 400, message: 'the report period is invalid' });
    expect(error.fields.map((f) => f.field)).toEqual(['since', 'format']);
  });

  it('a uniqueness conflict is conflict (409) naming its field', () => {
    const error = new ConflictError('username', 'username "alice" is taken in org acme');
    expect(error).toBeInstanceOf(CurfewError);
    expect(error).toMatchObject({ code: 'conflict', status: 409, field: 'username' });
    expect(error.fields).toEqual([{ field: 'username', message: 'username "alice" is taken in org acme' }]);
  });

  it('a store outage is temporarily_unavailable (503, Retry-After) in oidc-provider\'s error shape', () => {
    const cause = new Error('connect ECONNREFUSED');
    const error = new StoreUnavailableError({ cause });
    expect(isStoreUnavailable(error)).toBe(true);
    expect(error).toMatchObject({ code: 'temporarily_unavailable', status: 503, retryAfterSeconds: RETRY_AFTER_SECONDS, cause });
    // What oidc-provider reads (lib/helpers/err_out.js, lib/shared/error_handler.js): `message` is the
    // OAuth error code, and an exposed error keeps its description instead of becoming server_error.
    expect(error).toMatchObject({ expose: true, statusCode: 503, message: 'temporarily_unavailable', allow_redirect: true });
    expect(error.error_description).toBe(error.publicMessage);
    expect(error.publicMessage).not.toContain('ECONNREFUSED');
  });
});

describe('the store raises domain errors and knows no HTTP', () => {
  it('refuses a cursor it did not hand out as invalid_cursor', () => {
    for (const cursor of ['not-a-cursor', Buffer.from('9007199254740993-0').toString('base64url'), '']) {
      let caught: unknown;
      try {
        decodeCursor(cursor);
      } catch (error) {
        caught = error;
      }
      expect(caught, cursor).toBeInstanceOf(CurfewError);
      expect(caught).toMatchObject({ code: 'invalid_cursor', status: 400 });
    }
    expect(decodeCursor(Buffer.from('1700000000000-3').toString('base64url'))).toBe('1700000000000-3');
  });

  it('imports nothing from src/http, and src/errors.ts imports nothing at all', () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
    const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gm)].map((m) => m[1]!);
    const storeFiles = files(join(src, 'store'));
    expect(storeFiles.length).toBeGreaterThan(5);
    for (const file of storeFiles) expect(importsOf(file).filter((i) => i.includes('/http/')), file).toEqual([]);
    expect(importsOf(join(src, 'errors.ts'))).toEqual([]);
  });
});
