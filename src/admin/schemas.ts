import { z } from 'zod';
import { USERNAME } from '../accounts/users.ts';
import { clientChangesSchema, clientInputSchema } from '../orgs/client-validate.ts';

const role = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'must be lowercase letters, digits, _ or -');

export const userCreateSchema = z
  .object({
    username: z.string().transform((v) => v.trim().toLowerCase()).pipe(USERNAME),
    password: z.string().min(8, 'must be at least 8 characters').max(1024),
    roles: z.array(role).max(50).default([]),
    disabled: z.boolean().default(false),
  })
  .strict();

export const userPatchSchema = z
  .object({
    password: z.string().min(8, 'must be at least 8 characters').max(1024).optional(),
    roles: z.array(role).max(50).optional(),
    disabled: z.boolean().optional(),
  })
  .strict();

export const clientCreateSchema = clientInputSchema;
export const clientPatchSchema = clientChangesSchema;

export const auditQuerySchema = z
  .object({
    type: z.string().regex(/^[a-z]+\.[a-z_.]+$/, 'must be an event type such as session.ended').optional(),
    user: z.string().max(128).describe('The user\'s id (sub) or username').optional(),
    session: z.string().max(128).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const deliveriesQuerySchema = z.object({ state: z.enum(['pending', 'dead']).default('pending') }).strict();
export const sessionsQuerySchema = z.object({ user: z.string().max(128).describe('The user\'s id (sub) or username').optional(), client: z.string().max(128).optional() }).strict();
export const explainQuerySchema = z
  .object({ user: z.string().min(1).max(128).describe('The user\'s id (sub) or username'), client: z.string().max(128).optional(), ip: z.string().max(64).optional() })
  .strict();

export interface FieldError {
  field: string;
  message: string;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}
