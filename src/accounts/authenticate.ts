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

/** What the operator's signals hear of sign-ins: the outcome, and which limit refused one. */
export type SignInOutcome = 'ok' | Extract<AuthenticationResult, { ok: false }>['reason'];
export interface SignInSignals {
  signedIn(outcome: SignInOutcome, limitedBy?: 'account' | 'ip'): void;
}

/**
 * Password sign-in with failure limits per account and per source IP. Both attempts are
 * reserved before the password is judged, so parallel sign-ins never judge more passwords than
 * the limits allow; a wrong password keeps them spent, a right one gives them back. Failures
 * are counted for usernames that do not exist too, and unknown users cost one argon2
 * verification, so neither the limits nor the timing reveal which usernames exist.
 */
export function createAuthenticator(directory: DirectoryStore, limits: { account: RateLimiter; ip: RateLimiter }, signals?: SignInSignals): Authenticator {
  const judge = judgeSignIn(directory, limits);
  return {
    async authenticate(credentials) {
      const result = await judge.authenticate(credentials);
      if (result.ok) signals?.signedIn('ok');
      else signals?.signedIn(result.reason, result.reason === 'rate_limited' ? result.limitedBy : undefined);
      return result;
    },
  };
}

function judgeSignIn(directory: DirectoryStore, limits: { account: RateLimiter; ip: RateLimiter }): Authenticator {
  return {
    async authenticate({ org, username, password, ip }) {
      const key = accountKey(org, username);
      const account = await limits.account.reserve(key);
      if (!account.granted) return { ok: false, reason: 'rate_limited', retryAfterSeconds: account.retryAfterSeconds, limitedBy: 'account' };
      const fromIp = await limits.ip.reserve(ip);
      if (!fromIp.granted) {
        await limits.account.refund(key);
        return { ok: false, reason: 'rate_limited', retryAfterSeconds: fromIp.retryAfterSeconds, limitedBy: 'ip' };
      }
      const giveBack = () => Promise.all([limits.account.refund(key), limits.ip.refund(ip)]);

      let user: User | undefined;
      let valid: boolean;
      try {
        user = await directory.findUserByName(org, normalizeUsername(username));
        valid = user ? await verifyPassword(user.passwordHash, password) : (await burnPasswordCheck(password), false);
      } catch (error) {
        await giveBack();
        throw error;
      }
      if (!valid || !user) return user ? { ok: false, reason: 'invalid_credentials', user } : { ok: false, reason: 'invalid_credentials' };
      if (user.disabled) {
        await giveBack();
        return { ok: false, reason: 'disabled', user };
      }
      await Promise.all([limits.account.reset(key), limits.ip.refund(ip)]);
      return { ok: true, user };
    },
  };
}
