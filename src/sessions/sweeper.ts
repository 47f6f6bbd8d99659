import type { Logger } from '../logger.ts';
import { pollLoop } from '../workers/poll-loop.ts';
import type { SessionStore } from './store.ts';
import type { SessionService } from './service.ts';

export interface SweeperOptions {
  tickMs: number;
  batch: number;
  leaseMs: number;
}

export interface Sweeper {
  /**
   * Claims one batch of sessions past a deadline and ends what is due, and one batch of ended
   * sessions' outbox entries whose ender died or failed, and finishes those; resolves with the
   * larger count claimed.
   */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Finds sessions that reached a deadline without any request noticing, so their RPs hear of
 * it within a tick (SPEC §9). Enforcement never waits for it: requests judge sessions
 * themselves. Claims are atomic leases on the deadline index, so several instances sweep
 * together and each session is ended once (the end itself is atomic too, and records what it
 * owes in the store's outbox, which this loop also drains).
 */
export function createSweeper(deps: { store: SessionStore; sessions: SessionService; logger: Logger }, options: SweeperOptions): Sweeper {
  for (const name of ['tickMs', 'batch', 'leaseMs'] as const) {
    if (!Number.isInteger(options[name]) || options[name] <= 0) throw new Error(`createSweeper: ${name} must be a positive integer`);
  }
  const log = deps.logger.child({ component: 'sweeper' });
  async function tick(): Promise<number> {
    const { keys } = await deps.store.claimDue(options.batch, options.leaseMs);
    await Promise.all(keys.map((key) => deps.sessions.sweep(key).catch((err: unknown) => log.error({ err }, 'sweeping a session failed; it is claimed again after its lease'))));
    const finished = await deps.sessions.finishPending(options.batch, options.leaseMs);
    return Math.max(keys.length, finished);
  }

  const loop = pollLoop(tick, { batch: options.batch, idleMs: options.tickMs, logger: log, what: 'claiming due sessions' });
  return { tick, start: loop.start, stop: loop.stop };
}
