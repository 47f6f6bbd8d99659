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
 * it at once (SPEC §9): it wakes at the next deadline in the index, and polls every `tickMs`
 * for deadlines other instances wrote since. Enforcement never waits for it: requests judge sessions
 * themselves. Claims are atomic leases on the deadline index, so several instances sweep
 * together and each session is ended once (the end itself is atomic too, and records what it
 * owes in the store's outbox, which this loop also drains).
 */
export function createSweeper(deps: { store: SessionStore; sessions: SessionService; logger: Logger }, options: SweeperOptions): Sweeper {
  for (const name of ['tickMs', 'batch', 'leaseMs'] as const) {
    if (!Number.isInteger(options[name]) || options[name] <= 0) throw new Error(`createSweeper: ${name} must be a positive integer`);
  }
  const log = deps.logger.child({ component: 'sweeper' });
  /** When the index is next due, as the last claim saw it: shared-clock gap, local instant. */
  let next: { inMs: number; seenAt: number } | undefined;
  async function tick(): Promise<number> {
    // A claim that fails (the store down) tells nothing: the loop waits its tick, never less.
    next = undefined;
    const { keys, now, nextAt } = await deps.store.claimDue(options.batch, options.leaseMs);
    next = nextAt === undefined ? undefined : { inMs: nextAt - now, seenAt: performance.now() };
    await Promise.all(keys.map((key) => deps.sessions.sweep(key).catch((err: unknown) => log.error({ err }, 'sweeping a session failed; it is claimed again after its lease'))));
    const finished = await deps.sessions.finishPending(options.batch, options.leaseMs);
    return Math.max(keys.length, finished);
  }

  /**
   * Sleep until the next deadline the index holds, measured on the shared clock and counted down
   * locally, so a session ends at its deadline rather than up to a tick after it. The poll
   * (`tickMs`) stays the longest sleep: it finds what another instance wrote since.
   */
  const idleMs = () => (next ? Math.min(options.tickMs, Math.max(0, next.inMs - (performance.now() - next.seenAt))) : options.tickMs);
  const loop = pollLoop(tick, { batch: options.batch, idleMs, logger: log, what: 'claiming due sessions' });
  return { tick, start: loop.start, stop: loop.stop };
}
