import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { Context } from 'koa';

const COOKIE = 'curfew.csrf';

/**
 * Double-submit token: a random value in a signed, httpOnly, SameSite cookie, echoed by every
 * form. A cross-site page can make the browser post, but cannot read the value to echo.
 */
export function csrfToken(ctx: Context): string {
  const existing = ctx.cookies.get(COOKIE, { signed: true });
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  ctx.cookies.set(COOKIE, token, { signed: true, httpOnly: true, sameSite: 'lax', path: '/', overwrite: true });
  return token;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time: the comparison reveals nothing about how much of the token matched. */
export function csrfValid(ctx: Context, submitted: unknown): boolean {
  const expected = ctx.cookies.get(COOKIE, { signed: true });
  if (!expected || typeof submitted !== 'string') return false;
  return timingSafeEqual(digest(expected), digest(submitted));
}
