import Provider from 'oidc-provider';
import { describe, expect, it } from 'vitest';
import { CurfewError, StoreUnavailableError } from '../../../src/errors.ts';
import { csrfToken } from '../../../src/http/csrf.ts';
import { formBody, loadInteraction, requireCsrf, stringField } from '../../../src/oidc/interactions/context.ts';
import { cookiesSetBy, requestContext } from './request.ts';

function bareProvider(adapterFind: () => Promise<undefined>) {
  class Adapter {
    find = adapterFind;
    async upsert() {}
    async findByUid() {
      return undefined;
    }
    async findByUserCode() {
      return undefined;
    }
    async consume() {}
    async destroy() {}
    async revokeByGrantId() {}
  }
  return new Provider('http://127.0.0.1:1', {
    adapter: Adapter,
    cookies: { keys: ['interaction test cookie key'], names: { interaction: 'curfew.interaction' } },
    features: { devInteractions: { enabled: false } },
  });
}

describe('what every interaction form handler shares (src/oidc/interactions/context.ts)', () => {
  describe('formBody and stringField', () => {
    it('reads a parsed form, and treats anything else as an empty one', () => {
      const ctx = requestContext();
      Object.assign(ctx.request, { body: { username: 'alice', code: ['1', '2'], n: 3 } });
      const body = formBody(ctx);
      expect(stringField(body, 'username')).toBe('alice');
      // A repeated or non-text field is no value, never a crash.
      expect(stringField(body, 'code')).toBe('');
      expect(stringField(body, 'n')).toBe('');
      expect(stringField(body, 'missing')).toBe('');

      for (const odd of [undefined, null, 'text', 42]) {
        const other = requestContext();
        Object.assign(other.request, { body: odd });
        expect(formBody(other)).toEqual({});
      }
    });
  });

  describe('requireCsrf', () => {
    it('passes the token this browser was given, and refuses a missing, wrong or foreign one with csrf_failed (403)', () => {
      const first = requestContext();
      const token = csrfToken(first);
      const cookie = cookiesSetBy(first);

      expect(() => requireCsrf(requestContext('/', cookie), { csrf: token })).not.toThrow();
      for (const body of [{}, { csrf: '' }, { csrf: `${token.slice(0, -1)}x` }, { csrf: [token] }]) {
        const refused = (() => {
          try {
            requireCsrf(requestContext('/', cookie), body);
          } catch (error) {
            return error;
          }
          return undefined;
        })();
        expect(refused).toBeInstanceOf(CurfewError);
        expect(refused).toMatchObject({ code: 'csrf_failed', status: 403 });
      }
      // Another browser (no cookie) echoing a stolen token.
      expect(() => requireCsrf(requestContext(), { csrf: token })).toThrow(expect.objectContaining({ code: 'csrf_failed' }));
    });
  });

  describe('loadInteraction', () => {
    it('a browser with no interaction is told the page expired (400), not a 500', async () => {
      const provider = bareProvider(async () => undefined);
      const ctx = requestContext('/interaction/abc');
      ctx.params = { uid: 'abc' };
      await expect(loadInteraction(ctx, provider)).rejects.toMatchObject({ code: 'interaction_expired', status: 400 });
    });

    it('a store that cannot answer is a 503, not an expired page', async () => {
      const provider = bareProvider(async () => {
        throw new StoreUnavailableError();
      });
      // The interaction cookie the library would look up.
      const signer = requestContext();
      signer.cookies.set('curfew.interaction', 'abc', { signed: true });
      const ctx = requestContext('/interaction/abc', cookiesSetBy(signer));
      ctx.params = { uid: 'abc' };
      await expect(loadInteraction(ctx, provider)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
});
