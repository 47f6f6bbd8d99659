import type { Account, KoaContextWithOIDC } from 'oidc-provider';
import type { DirectoryStore } from '../store/types.ts';
import { userInRequest } from './request-user.ts';

/**
 * The provider's view of a user. A disabled or deleted user has no account: their sessions
 * stop yielding tokens and their refresh grants fail.
 */
export async function findAccount(directory: DirectoryStore, ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined> {
  // Often already read, beside the session check of the token that names it (src/oidc/adapter.ts).
  const user = await userInRequest(ctx, sub, (id) => directory.getUser(id));
  if (!user || user.disabled) return undefined;
  return {
    accountId: user.id,
    async claims() {
      return { sub: user.id, preferred_username: user.username, name: user.username, roles: user.roles, org: user.org };
    },
  };
}
