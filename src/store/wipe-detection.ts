import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';
import type { StoreMarker } from './types.ts';

/**
 * intact: the store holds this instance's marker. wiped: it answers but holds no marker (it lost
 * its state); restoring is under way here or at another instance. diverged: it holds another
 * instance's marker — key material made after a wipe by an instance that started on the empty
 * store — and this instance's keys no longer match the store's: only a restart fixes that.
 */
export type StoreState = 'intact' | 'wiped' | 'diverged';

export interface WipeWatchDeps {
  marker: StoreMarker;
  /** The marker this instance expects (its key fingerprint, src/oidc/keys.ts). */
  expected: string;
  /**
   * Re-applies seed and key material to an empty store. Idempotent; 'diverged' when the store's
   * keys turned out to be another instance's.
   */
  restore(): Promise<'restored' | 'diverged'>;
  logger: Logger;
  /** How often the marker is read in the background. */
  intervalMs?: number;
  /** How long one instance holds the restore before another may take it over (a crash mid-restore). */
  claimMs?: number;
  /** How long a lookup that found nothing waits for another instance's restore before answering 503. */
  missWaitMs?: number;
  /**
   * Told of every change of state, on every instance (not only the one that restores): what
   * an instance derived from the store before a wipe (its cache of clients and orgs) is to be
   * dropped then, and again once the store is restored.
   */
  changed?: (state: StoreState) => void;
}

export interface WipeWatch {
  /** At start, after the seed: leaves the marker in a new store (or finds it) and starts the interval. */
  start(): Promise<void>;
  stop(): void;
  /**
   * One read of the marker (cheap: one GET), for readiness and the interval: whether the store
   * is intact. A missing marker also starts a restore in the background (one instance wins
   * the claim); the answer is "not intact" until the marker is back.
   */
  check(): Promise<boolean>;
  /**
   * After a lookup that must find something (a client named in a request) found nothing:
   * 'missing' — the store is intact, it really is not there; 'restored' — the store had lost its
   * state and holds it again, look again; 'unavailable' — the store is wiped (restoring) or
   * diverged, so the absence says nothing.
   */
  explainMiss(): Promise<'missing' | 'restored' | 'unavailable'>;
  readonly state: StoreState;
}

const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_CLAIM_MS = 30_000;
const DEFAULT_MISS_WAIT_MS = 2_000;
const MISS_POLL_MS = 50;

export function createWipeWatch({
  marker,
  expected,
  restore,
  logger,
  intervalMs = DEFAULT_INTERVAL_MS,
  claimMs = DEFAULT_CLAIM_MS,
  missWaitMs = DEFAULT_MISS_WAIT_MS,
  changed = () => {},
}: WipeWatchDeps): WipeWatch {
  const log = logger.child({ component: 'wipe-detection' });
  const holder = randomUUID();
  let state: StoreState = 'intact';
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<boolean> | undefined;
  /** Counts returns to intact, so a lookup can tell a restore happened during its check. */
  let recoveries = 0;

  function judge(found: string): boolean {
    if (found === expected) {
      if (state !== 'intact') {
        recoveries++;
        log.info('the store holds its state again; ready');
        state = 'intact';
        changed(state);
      }
      return true;
    }
    if (state !== 'diverged') {
      log.error('the store holds key material other than this instance\'s (an instance started on the wiped store); restart this instance');
      state = 'diverged';
      changed(state);
    }
    return false;
  }

  let restoring: Promise<void> | undefined;

  async function restoreIfClaimed(): Promise<void> {
    if (!(await marker.claimRestore(holder, claimMs))) return;
    log.warn('restoring the wiped store: key material and seed');
    let outcome: 'restored' | 'diverged';
    try {
      outcome = await restore();
    } catch (error) {
      // Another check (here or at another instance) tries again at once, not after the claim expires.
      await marker.releaseRestore(holder).catch(() => {});
      throw error;
    }
    if (outcome === 'diverged') {
      if (state !== 'diverged') changed('diverged');
      state = 'diverged';
      log.error('the store holds key material other than this instance\'s; restart this instance');
      return;
    }
    // The marker goes last: until it is there, every instance reads the store as wiped.
    judge(await marker.settle(expected));
  }

  /** One restore at a time in this instance; of several instances, the claim picks one. */
  const startRestore = () =>
    (restoring ??= restoreIfClaimed()
      .catch((err: unknown) => log.error({ err }, 'restoring the wiped store failed; tried again at the next check'))
      .finally(() => (restoring = undefined)));

  let settled = false;
  /** A new store gets the marker; a store that has one is judged by it. Once, at start. */
  async function settle(): Promise<boolean> {
    const intact = judge(await marker.settle(expected));
    settled = true;
    return intact;
  }

  async function checkOnce(): Promise<boolean> {
    // Asked before start (an app served without listen()): the marker is not left yet, which is no wipe.
    if (!settled) return settle();
    const found = await marker.read();
    if (found !== undefined) return judge(found);
    if (state === 'intact') log.error('the store lost its state (no marker): not ready until its seed and keys are re-applied');
    if (state !== 'wiped') {
      state = 'wiped';
      changed(state);
    }
    // Readiness answers "not ready" now; the restore runs on.
    void startRestore();
    return false;
  }

  // Single flight: readiness probes, the interval and lookups share one read at a time.
  const check = () => (inFlight ??= checkOnce().finally(() => (inFlight = undefined)));

  return {
    get state() {
      return state;
    },
    async start() {
      await settle();
      timer = setInterval(() => {
        check().catch((err: unknown) => log.warn({ err: err instanceof Error ? err.message : err }, 'store marker check failed'));
      }, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
    check,
    async explainMiss() {
      const before = recoveries;
      const giveUpAt = Date.now() + missWaitMs;
      let intact = await check();
      // The request waits for the restore — this instance's, or briefly another's — then looks again.
      // (A restore may finish between a check's read and its answer: loop on "not diverged", not on "wiped".)
      while (!intact && state !== 'diverged') {
        await startRestore();
        intact = await check();
        if (intact || Date.now() >= giveUpAt) break;
        await new Promise((resolve) => setTimeout(resolve, MISS_POLL_MS));
      }
      if (!intact) return 'unavailable';
      return recoveries === before ? 'missing' : 'restored';
    },
  };
}
