import type { Context } from 'koa';
import { enforcementState } from './request-state.ts';

// SPEC §10: the activity judge-sso-session counted is stored before the answer leaves, as when the
// count was awaited in place — it just no longer costs the authorization request a round trip of its
// own (it runs beside the library's grant, code and session writes). A failed count fails the request.
export function awaitActivityCount() {
  return async (ctx: Context): Promise<void> => {
    await enforcementState(ctx).activityCounted;
  };
}
