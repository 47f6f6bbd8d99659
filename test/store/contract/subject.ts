import type { Store } from '../../../src/store/types.ts';
import type { SharedClock } from '../../support/shared-clock.ts';

/** A store under test and its shared clock, pinned by the test (memory: a ManualClock; Redis: the pin key). */
export interface ContractSubject {
  store: Store;
  clock: SharedClock;
  /**
   * Redis expires model records by its own clock (relative `PX` TTLs), not by the pinnable
   * shared clock; the model-expiry test then waits in real time instead of moving the clock.
   */
  modelTtlsInRealTime?: boolean;
  cleanup(): Promise<void>;
}

/**
 * Makes a fresh subject for one test. `start` is where a memory store's ManualClock starts
 * (each concern's suite keeps the start it was written with); a Redis store pins its clock
 * from the server's own time and ignores it.
 */
export type MakeSubject = (start?: number) => Promise<ContractSubject>;
