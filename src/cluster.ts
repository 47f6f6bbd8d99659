import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';

/** CURFEW_WORKERS as a number of processes: `auto` is one per core this process may use. */
export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/** What a worker is told at fork, through its environment (read by `workerRole`). */
const SLOT_VARIABLE = 'CURFEW_CLUSTER_WORKER';
const SEED_VARIABLE = 'CURFEW_CLUSTER_SEED';

export interface WorkerRole {
  /** 1..N: the worker's place, kept by its replacements. */
  slot: number;
  /**
   * `apply`: the first worker of a start applies CURFEW_SEED before any other worker is forked.
   * `remember`: every other worker (and every replacement) only keeps it, to re-apply it should
   * it be the one to restore a wiped store. N workers applying one seed at once would be
   * idempotent, but would hash every password N times and write N audit entries per change.
   */
  seed: 'apply' | 'remember';
}

/** This process's role when the primary forked it; undefined outside a cluster. */
export function workerRole(env: NodeJS.ProcessEnv = process.env): WorkerRole | undefined {
  if (!cluster.isWorker) return undefined;
  return { slot: Number(env[SLOT_VARIABLE] ?? 0), seed: env[SEED_VARIABLE] === 'apply' ? 'apply' : 'remember' };
}

/** The primary's word to a worker: SIGHUP, re-read CURFEW_SEED; one worker applies it. */
export interface ReloadSeed {
  curfew: 'reload-seed';
  apply: boolean;
}

export function isReloadSeed(message: unknown): message is ReloadSeed {
  return typeof message === 'object' && message !== null && (message as { curfew?: unknown }).curfew === 'reload-seed';
}

export interface Backoff {
  /** First restart delay; doubles per consecutive failure. */
  baseMs: number;
  maxMs: number;
  /** Consecutive failures of one slot after which the primary gives up and stops everything. */
  maxFailures: number;
  /** A worker that served this long before dying starts a fresh count. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 15_000, maxFailures: 5, stableMs: 60_000 };

/** Graceful shutdown takes up to 10 s of in-flight requests plus the workers' batch in hand. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * The restart delay after `failures` consecutive failures (1-based), or undefined once the
 * slot has failed too often: a worker that cannot stay up is the orchestrator's to see, not a
 * loop for the primary to hide.
 */
export function restartDelay(failures: number, backoff: Backoff): number | undefined {
  if (failures > backoff.maxFailures) return undefined;
  return Math.min(backoff.baseMs * 2 ** (failures - 1), backoff.maxMs);
}

interface Slot {
  worker?: Worker;
  failures: number;
  listeningSince?: number;
  restart?: NodeJS.Timeout;
}

/**
 * The primary: forks `count` workers (the first alone, so the seed is in the store before the
 * others serve), replaces a worker that dies (bounded backoff), forwards SIGTERM/SIGINT and
 * exits once every worker has shut down, forwards SIGHUP as a seed reload. It opens no store
 * and serves nothing itself: a fault in request handling can only take a worker down.
 */
export function superviseWorkers({ count, logger, host, backoff = DEFAULT_BACKOFF }: { count: number; logger: Logger; host: string | undefined; backoff?: Backoff }): void {
  const slots: Slot[] = Array.from({ length: count }, () => ({ failures: 0 }));
  let serving = false;
  let stopping = false;
  let exitCode = 0;
  let forceTimer: NodeJS.Timeout | undefined;

  const live = (): Worker[] => slots.flatMap((s) => (s.worker && !s.worker.isDead() ? [s.worker] : []));

  function fork(index: number, seed: WorkerRole['seed']): void {
    const slot = slots[index];
    if (!slot) return;
    slot.restart = undefined;
    slot.listeningSince = undefined;
    const worker = cluster.fork({ [SLOT_VARIABLE]: String(index + 1), [SEED_VARIABLE]: seed });
    slot.worker = worker;
    worker.once('listening', (address) => {
      slot.listeningSince = Date.now();
      if (!serving) started(index, address.port);
    });
    worker.once('exit', (code, signal) => exited(index, worker, code, signal));
  }

  function started(index: number, port: number): void {
    if (index === 0) {
      for (let i = 1; i < count; i++) fork(i, 'remember');
    }
    if (slots.every((s) => s.listeningSince !== undefined)) {
      serving = true;
      logger.info({ port, host: host ?? '*', workers: count }, 'Curfew is serving');
    }
  }

  function exited(index: number, worker: Worker, code: number | null, signal: string | null): void {
    const slot = slots[index];
    if (!slot) return;
    if (slot.worker === worker) slot.worker = undefined;
    if (stopping) {
      if (code !== 0) exitCode = 1;
      if (live().length === 0) finish();
      return;
    }
    if (!serving) {
      // A start that fails (Redis unreachable, a bad seed) fails whole, as a single process would.
      logger.error({ worker: index + 1, exitCode: code, signal }, 'a worker could not start; stopping');
      shutdown(1);
      return;
    }
    const stable = slot.listeningSince !== undefined && Date.now() - slot.listeningSince >= backoff.stableMs;
    slot.failures = stable ? 1 : slot.failures + 1;
    const delay = restartDelay(slot.failures, backoff);
    if (delay === undefined) {
      logger.fatal({ worker: index + 1, exitCode: code, signal, failures: slot.failures - 1 }, 'a worker keeps dying; stopping every worker');
      shutdown(1);
      return;
    }
    logger.warn({ worker: index + 1, pid: worker.process.pid, exitCode: code, signal, restartInMs: delay }, 'a worker died; restarting it');
    slot.restart = setTimeout(() => fork(index, 'remember'), delay);
  }

  function shutdown(code: number, signal?: string): void {
    if (code !== 0) exitCode = code;
    if (stopping) return;
    stopping = true;
    if (signal) logger.info({ signal }, 'shutting down');
    for (const slot of slots) clearTimeout(slot.restart);
    const running = live();
    if (running.length === 0) return finish();
    for (const worker of running) worker.process.kill('SIGTERM');
    forceTimer = setTimeout(() => {
      logger.error({ workers: live().map((w) => w.process.pid) }, 'workers did not stop in time; killing them');
      for (const worker of live()) worker.process.kill('SIGKILL');
      exitCode = 1;
    }, SHUTDOWN_TIMEOUT_MS);
  }

  function finish(): void {
    clearTimeout(forceTimer);
    process.exit(exitCode);
  }

  // `on`, not `once`: a second Ctrl-C must not kill the primary before its workers.
  process.on('SIGTERM', () => shutdown(0, 'SIGTERM'));
  process.on('SIGINT', () => shutdown(0, 'SIGINT'));
  process.on('SIGHUP', () => {
    if (stopping) return;
    const running = live();
    running.forEach((worker, i) => worker.send({ curfew: 'reload-seed', apply: i === 0 } satisfies ReloadSeed));
  });

  fork(0, 'apply');
}
