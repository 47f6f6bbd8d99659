import type { InteractionDeps } from './context.ts';

/**
 * SPEC §6 and §8: enforcement never waits for the sweeper. Before a sign-in decides whether
 * TOTP is needed, every session of the user is judged now; one past its deadline is ended here,
 * and its end records the step-up requirement — so a password submitted just after a deadline
 * is asked for TOTP although no sweeper has processed that session yet.
 */
export async function judgeUserSessions(deps: Pick<InteractionDeps, 'sessions' | 'sessionKeysOfUser'>, userId: string): Promise<void> {
  const keys = await deps.sessionKeysOfUser(userId);
  await Promise.all(keys.map((key) => deps.sessions.sweep(key)));
}
