import type { User } from '../../orgs/types.ts';
import type { SessionService } from '../../sessions/service.ts';
import { consoleClientId } from './console-client.ts';

/**
 * Whether `user` may act as an admin of `org` right now: an enabled user of that org with the
 * `admin` role. Judged on every console page and every API call made with the console's cookie
 * (issue 10 item 2) — authority is re-checked at use, never carried over from the sign-in.
 */
export function mayAdminister(user: User | undefined, org: string): user is User {
  return user !== undefined && user.org === org && !user.disabled && user.roles.includes('admin');
}

/**
 * Ends every console RP session of a user who lost the `admin` role (reason `admin`): the
 * console's own back-channel endpoint receives its logout token like any app's. The user's
 * SSO session and other apps are not the console's to end. Returns how many ended.
 */
export async function endConsoleSessions(sessions: SessionService, user: Pick<User, 'id' | 'org'>): Promise<number> {
  const client = consoleClientId(user.org);
  let ended = 0;
  for (const session of await sessions.list(user.org, { user: user.id, client })) {
    if (await sessions.endRp(session.id, client, 'admin')) ended++;
  }
  return ended;
}
