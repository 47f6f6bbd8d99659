import Provider from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import type { Interaction } from '../../../src/oidc/interactions/context.ts';
import { restartAuthorization, sessionStanding } from '../../../src/oidc/interactions/require-live-session.ts';
import { enforcementWorld, IDLE_SECONDS } from '../enforcement/world.ts';

describe('a step-up standing on a live session (src/oidc/interactions/require-live-session.ts)', () => {
  describe('sessionStanding', () => {
    it('a sign-in that named no session (the password was given) carries', async () => {
      const w = await enforcementWorld();
      expect(await sessionStanding(w, undefined, 'alice')).toBe('carries');
    });

    it('carries 1 ms before the idle deadline; at the deadline the session is ended here', async () => {
      const w = await enforcementWorld();
      await w.signIn('s1');
      w.clock.advance(IDLE_SECONDS * 1000 - 1);
      expect(await sessionStanding(w, 's1', 'alice')).toBe('carries');

      const other = await enforcementWorld();
      await other.signIn('s1');
      other.clock.advance(IDLE_SECONDS * 1000);
      expect(await sessionStanding(other, 's1', 'alice')).toBe('ended');
      expect(other.ended.map((e) => [e.scope, e.reason])).toEqual([['sso', 'idle']]);
      expect(await other.sessions.get('s1')).toBeUndefined();
    });

    it('counts using the form as activity: the idle deadline moves to a full period from now', async () => {
      const w = await enforcementWorld();
      await w.signIn('s1');
      w.clock.advance(IDLE_SECONDS * 1000 - 1);
      expect(await sessionStanding(w, 's1', 'alice')).toBe('carries');
      w.clock.advance(IDLE_SECONDS * 1000 - 1);
      expect(await sessionStanding(w, 's1', 'alice')).toBe('carries');
      expect(w.ended).toEqual([]);
    });

    it('a session of another user does not carry, and is left alive', async () => {
      const w = await enforcementWorld();
      await w.signIn('s1');
      expect(await sessionStanding(w, 's1', 'carol')).toBe('other_user');
      expect(await w.sessions.get('s1')).toBeDefined();
    });

    it('a session that is gone is ended', async () => {
      const w = await enforcementWorld();
      expect(await sessionStanding(w, 'never-existed', 'alice')).toBe('ended');
    });
  });

  describe('restartAuthorization', () => {
    it('is the client\'s authorization request again, at the provider\'s authorization endpoint, with its string parameters', () => {
      const provider = new Provider('https://id.example/base', { cookies: { keys: ['restart test cookie key'] }, features: { devInteractions: { enabled: false } } });
      const params = { client_id: 'rp', response_type: 'code', scope: 'openid profile', acr_values: 'urn:curfew:acr:mfa', redirect_uri: 'https://rp.example/cb?x=1&y=2', state: 'st', ignored: undefined };
      // Only the interaction's params are read; the rest of a stored Interaction is not needed.
      const url = new URL(restartAuthorization(provider, { params } as unknown as Interaction));
      expect(`${url.origin}${url.pathname}`).toBe('https://id.example/base/auth');
      expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'rp', response_type: 'code', scope: 'openid profile', acr_values: 'urn:curfew:acr:mfa', redirect_uri: 'https://rp.example/cb?x=1&y=2', state: 'st' });
    });
  });
});
