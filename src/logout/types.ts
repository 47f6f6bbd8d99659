export type DeliveryState = 'pending' | 'dead';

/** One logout token owed to one RP (SPEC §9). */
export interface Delivery {
  id: string;
  org: string;
  client: string;
  uri: string;
  sub: string;
  sid: string;
  reason: string;
  session: string;
  /** Shared-clock ms the session ended at (for the lag metric). */
  endedAt: number;
  enqueuedAt: number;
  attempts: number;
  state: DeliveryState;
  nextAttemptAt: number;
  lastError?: string;
}
