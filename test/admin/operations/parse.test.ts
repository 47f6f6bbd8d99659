import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parse } from '../../../src/admin/operations/parse.ts';
import { userCreateSchema } from '../../../src/admin/schemas.ts';
import { ValidationError } from '../../../src/errors.ts';

const fieldsOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e.fields.map((f) => f.field).sort();
    throw e;
  }
  throw new Error('parse accepted the input');
};

describe('parsing an admin operation\'s input', () => {
  it('returns the schema\'s output, transforms and defaults applied', () => {
    expect(parse(userCreateSchema, { username: ' Dana ', password: 'long enough' })).toEqual({ username: 'dana', password: 'long enough', roles: [], disabled: false });
  });

  it('names every bad field at once in a 400', () => {
    const bad = () => parse(userCreateSchema, { username: '!!', password: 'short', roles: ['Bad Role'], extra: 1 });
    expect(bad).toThrow(expect.objectContaining({ code: 'invalid_request', status: 400 }));
    expect(fieldsOf(bad)).toEqual(['(body)', 'password', 'roles.0', 'username']);
  });

  it('reads a missing body as an empty object, so required fields are named rather than the body', () => {
    expect(fieldsOf(() => parse(userCreateSchema, undefined))).toEqual(['password', 'username']);
    expect(fieldsOf(() => parse(userCreateSchema, null))).toEqual(['password', 'username']);
    expect(parse(z.object({ note: z.string().optional() }), undefined)).toEqual({});
  });

  it('names the body itself when it is not an object', () => {
    expect(fieldsOf(() => parse(userCreateSchema, 'text'))).toEqual(['(body)']);
  });
});
