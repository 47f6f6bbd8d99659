import type { z } from 'zod';
import { ValidationError } from '../../errors.ts';
import { fieldErrors } from '../schemas.ts';

/** Input as sent, validated: a 400 naming every bad field, the same from the API and the console. */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
}
