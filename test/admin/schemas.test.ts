import { describe, expect, it } from 'vitest';
import { auditQuerySchema, deliveriesQuerySchema, explainQuerySchema, fieldErrors, sessionsQuerySchema, userCreateSchema, userPatchSchema } from '../../src/admin/schemas.ts';

const fields = (result: { success: boolean; error?: unknown }) => (result.success ? [] : fieldErrors(result.error as Parameters<typeof fieldErrors>[0]).map((f) => f.field).sort());

describe('admin API input schemas', () => {
  it('a new user: username trimmed and lower-cased, password of 8+, roles lowercase, defaults filled, nothing extra', () => {
    expect(userCreateSchema.parse({ username: '  Dana.S@Acme ', password: '12345678' })).toEqual({ username: 'dana.s@acme', password: '12345678', roles: [], disabled: false });
    expect(fields(userCreateSchema.safeParse({ username: '-dana', password: '1234567', roles: ['Staff'], admin: true }))).toEqual(['(body)', 'password', 'roles.0', 'username']);
    expect(fields(userCreateSchema.safeParse({ username: 'd', password: 'x'.repeat(1025) }))).toEqual(['password']);
    expect(fields(userCreateSchema.safeParse({ username: 'd', password: '12345678', roles: Array.from({ length: 51 }, (_, i) => `r${i}`) }))).toEqual(['roles']);
  });

  it('a user patch: every field optional, none defaulted, nothing extra', () => {
    expect(userPatchSchema.parse({})).toEqual({});
    expect(userPatchSchema.parse({ disabled: true })).toEqual({ disabled: true });
    expect(fields(userPatchSchema.safeParse({ username: 'x' }))).toEqual(['(body)']);
  });

  it('an audit query: a dotted event type, an ISO instant with offset, a limit of 1-500 read from the query string (default 50)', () => {
    expect(auditQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(auditQuerySchema.parse({ type: 'session.ended', limit: '500', since: '2026-01-01T00:00:00+01:00' })).toMatchObject({ limit: 500 });
    expect(fields(auditQuerySchema.safeParse({ type: 'ended', limit: '0', since: 'yesterday' }))).toEqual(['limit', 'since', 'type']);
    expect(fields(auditQuerySchema.safeParse({ limit: '501' }))).toEqual(['limit']);
    expect(fields(auditQuerySchema.safeParse({ limit: '2.5' }))).toEqual(['limit']);
  });

  it('the list queries: known states only, bounded strings, an explain names its user', () => {
    expect(deliveriesQuerySchema.parse({})).toEqual({ state: 'pending' });
    expect(fields(deliveriesQuerySchema.safeParse({ state: 'done' }))).toEqual(['state']);
    expect(fields(sessionsQuerySchema.safeParse({ user: 'x'.repeat(129) }))).toEqual(['user']);
    expect(fields(explainQuerySchema.safeParse({}))).toEqual(['user']);
    expect(fields(explainQuerySchema.safeParse({ user: 'bob', extra: '1' }))).toEqual(['(body)']);
  });

  it('names a field by its path, and the body itself when the error has none', () => {
    const result = userCreateSchema.safeParse(42);
    expect(result.success).toBe(false);
    if (!result.success) expect(fieldErrors(result.error)).toEqual([{ field: '(body)', message: expect.any(String) }]);
  });
});
