import type { Context } from 'koa';
import { enforcementState } from './request-state.ts';

// An access token must not outlive the RP session it was issued in (SPEC §6): its lifetime is the
// configured one, capped by the session's remaining life that bind-token-to-rp-session found.
export function capAccessTokenTtl(configuredSeconds: number) {
  return (ctx: Context | undefined): number => {
    const rp = ctx && enforcementState(ctx).rpSession;
    if (!rp) return configuredSeconds;
    return Math.max(1, Math.min(configuredSeconds, Math.floor((rp.expiresAt - rp.now) / 1000)));
  };
}
