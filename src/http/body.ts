import type { Context } from 'koa';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The parsed body as fields (a form, or a JSON object); anything else, or no body, is no fields. */
export function bodyFields(ctx: Context): Record<string, unknown> {
  const body = ctx.request.body;
  return isRecord(body) ? body : {};
}
