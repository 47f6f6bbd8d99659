import type { User } from '../orgs/types.ts';
import type { DirectoryStore, RateLimiter } from '../store/types.ts';
import { burnPasswordCheck, verifyPassword } from './passwords.ts';
import { normalizeUsername } from './users.ts';

export interface Credentials {
  org: string;
  username: string;
  password: string;
  ip: string;
}

export type AuthenticationResult =
  | { ok: true; user: User }
  | { ok: false; reason: 'invalid_credentials' | 'disabled'; user?: User }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number; limitedBy: 'account' | 'ip' };

export interface Authenticator {
  authenticate(credentials: Credentials): Promise<AuthenticationResult>;
}

/** Keys for failure counting: usernames compare case-insensitively, as users type them. */
const accountKey = (org: string, username: string) => `${org}\u0000${normalizeUsername(username)}`;

/**
 * Password sign-in with failure limits per account and per source IP. Failures are counted for
 * usernames that do not exist too, and unknown users cost one argon2 verification, so neither
 * the limits nor the timing reveal which usernames exist.
 */
export function createAuthenticator(directory: DirectoryStore, limits: { account: RateLimiter; ip: RateLimiter }): Authenticator {
  return {
    async authenticate({ org, username, password, ip }) {
      const key = accountKey(org, username);
      for (const [limitedBy, limiter, k] of [['account', limits.account, key], ['ip', limits.ip, ip]] as const) {
        const state = await limiter.check(k);
        if (state.blocked) return { ok: false, reason: 'rate_limited', retryAfterSeconds: state.retryAfterSeconds, limitedBy };
      }

      const user = await directory.findUserByName(org, normalizeUsername(username));
      const valid = user ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
      if (!valid || !user) {
        await Promise.all([limits.account.fail(key), limits.ip.fail(ip)]);
        return user ? { ok: false, reason: 'invalid_credentials', user } : { ok: false, reason: 'invalid_credentials' };
      }
      if (user.disabled) return { ok: false, reason: 'disabled', user };
      await limits.account.reset(key);
      return { ok: true, user };
    },
  };
}
