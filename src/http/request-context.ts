import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context, Next } from 'koa';

/**
 * What one request learned that a later, synchronous step needs: oidc-provider's TTL functions
 * must be synchronous, so the RP session's remaining life found while loading a token is kept here.
 */
export interface RequestState {
  /** Shared-clock ms the current RP session ends at, and the shared clock's now when checked. */
  rpSession?: { sessionUid: string; clientId: string; expiresAt: number; now: number; refreshIsActivity: boolean };
  /** The authorization check found this client's RP session alive: nothing to record. */
  rpAlive?: { sessionUid: string; clientId: string };
  /** A code issued in this request: its RP session is recorded before the response leaves. */
  codeIssued?: { sessionUid: string; clientId: string; grantId?: string; sid?: string };
}

const storage = new AsyncLocalStorage<RequestState>();

export function requestState(): RequestState | undefined {
  return storage.getStore();
}

export async function withRequestState(_ctx: Context, next: Next): Promise<void> {
  await storage.run({}, next);
}
