import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Logger } from '../logger.ts';
import type { SigningJwks } from '../oidc/keys.ts';
import { createLogoutTokenSigner, type LogoutTokenClaims } from './logout-token.ts';
import { createTokenPoster, type Outcome, type PosterOptions } from './post-token.ts';

/**
 * Logout tokens signed and POSTed on worker threads (issue 14): a wave of ends keeps Curfew's
 * event loop busy with the ends themselves (store calls, bookkeeping), so the per-token work
 * that needs no store — building the JWS and the HTTP exchange with the RP — runs beside it on
 * the host's other cores. The tokens are the ones `createLogoutTokenSigner` makes on the main
 * thread (each thread runs that very function over the same keys), with claims built by the
 * caller, so nothing about a token depends on where it was signed.
 *
 * A thread that dies (a crash, an out-of-memory kill) is replaced, and the tokens it held are
 * handed to another thread: a token is never lost to a crash. One that was already POSTed may
 * reach its RP twice, which at-least-once delivery allows (SPEC §9). A token whose threads died
 * `maxTries` times is given up with an error; the sender's claim on it lapses and it is claimed
 * again after its lease, so even then it is not lost.
 */

/** One token to sign and deliver: the claims (its jti included), the client's algorithm, where. */
export interface DeliveryJob {
  claims: LogoutTokenClaims;
  alg: string;
  url: string;
  /** The origin is allow-listed: loopback/private addresses allowed (see ssrf.ts). */
  allowListed: boolean;
}

export interface SigningPool {
  /** Signs the token and POSTs it on a thread; the outcome, or an error if no thread could. */
  deliver(job: DeliveryJob): Promise<Outcome>;
  /** Threads now running (replacements included). */
  readonly size: number;
  /**
   * False once threads kept dying before answering anything (`maxStartFailures` in a row): the
   * pool stops replacing them rather than spin, and the caller signs and posts itself.
   */
  readonly available: boolean;
  /** The live threads: for diagnostics and for tests that kill one. */
  threads(): readonly Worker[];
  /** Stops every thread; tokens still in hand fail (their deliveries are claimed again after the lease). */
  close(): Promise<void>;
}

export interface SigningPoolOptions {
  /** The provider's private signing keys: handed to each thread at its start, never logged. */
  jwks: SigningJwks;
  threads: number;
  poster: PosterOptions;
  logger: Logger;
  /** A token whose thread died this many times is given up (default 3). */
  maxTries?: number;
  /** Threads dying in a row without ever answering before the pool gives up on threads (default 5). */
  maxStartFailures?: number;
}

/** CURFEW_SIGNING_THREADS: `auto` is one thread per core this process may use. */
export function signingThreadCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : setting;
}

/** Marks a thread started by this module, so importing the module in any other thread does nothing. */
const ROLE = 'curfew-signing-thread';

interface ThreadData {
  role: typeof ROLE;
  jwks: SigningJwks;
  poster: PosterOptions;
}

type Request = { id: number; job: DeliveryJob };
type Reply = { id: number; outcome: Outcome } | { id: number; error: string };

/**
 * Calls `send` with everything pushed during one turn of the event loop, as one message:
 * a wave hands a thread hundreds of tokens, and one message each would cost more than the JWS.
 */
function batcher<T>(send: (items: T[]) => void): (item: T) => void {
  let items: T[] = [];
  return (item) => {
    if (items.push(item) > 1) return;
    setImmediate(() => {
      const out = items;
      items = [];
      send(out);
    });
  };
}

interface Thread {
  worker: Worker;
  /** It has answered at least once: a thread that dies before is counted as failing to start. */
  answered: boolean;
  /** The jobs it holds, by id. */
  holding: Set<number>;
  enqueue: (request: Request) => void;
}

interface Pending {
  job: DeliveryJob;
  tries: number;
  resolve: (outcome: Outcome) => void;
  reject: (err: Error) => void;
  thread?: Thread;
}

export function createSigningPool({ jwks, threads: count, poster, logger, maxTries = 3, maxStartFailures = 5 }: SigningPoolOptions): SigningPool {
  if (!Number.isInteger(count) || count < 1) throw new Error('createSigningPool: threads must be a positive integer');
  const log = logger.child({ component: 'signing-pool' });
  const pending = new Map<number, Pending>();
  const threads = new Set<Thread>();
  let nextId = 1;
  let closing = false;
  let startFailures = 0;
  let available = true;

  function settle(id: number, settleWith: (p: Pending) => void): void {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (p.thread) release(p.thread, id);
    settleWith(p);
  }

  /** A thread with nothing in hand does not keep the process alive (an idle pool never holds up an exit). */
  function release(thread: Thread, id: number): void {
    thread.holding.delete(id);
    if (thread.holding.size === 0) thread.worker.unref();
  }

  function start(): Thread {
    const data: ThreadData = { role: ROLE, jwks, poster };
    const worker = new Worker(new URL(import.meta.url), { workerData: data });
    worker.unref();
    const thread: Thread = { worker, answered: false, holding: new Set(), enqueue: batcher((requests) => worker.postMessage(requests)) };
    worker.on('message', (replies: Reply[]) => {
      thread.answered = true;
      startFailures = 0;
      for (const reply of replies) {
        if ('outcome' in reply) settle(reply.id, (p) => p.resolve(reply.outcome));
        else settle(reply.id, (p) => p.reject(new Error(reply.error)));
      }
    });
    // Only the exit says the thread is gone; an 'error' is followed by it.
    worker.on('error', (err) => log.error({ err: { message: err.message }, thread: worker.threadId }, 'a signing thread failed'));
    worker.on('exit', (code) => {
      threads.delete(thread);
      if (closing || !available) return;
      if (!thread.answered && ++startFailures >= maxStartFailures) {
        // Threads that cannot even start would be replaced in a hot loop: stop, and let the
        // caller sign on its own event loop. What they held fails now and is claimed again.
        available = false;
        log.error({ code, failures: startFailures }, 'signing threads keep dying before answering; signing on the event loop instead');
        for (const t of threads) void t.worker.terminate();
        for (const id of [...pending.keys()]) settle(id, (p) => p.reject(new Error('the signing threads failed')));
        return;
      }
      log.error({ thread: worker.threadId, code }, 'a signing thread exited; starting another and handing it the tokens it held');
      threads.add(start());
      for (const id of thread.holding) {
        const p = pending.get(id);
        if (!p) continue;
        p.thread = undefined;
        if (++p.tries >= maxTries) settle(id, (q) => q.reject(new Error(`signing threads died ${q.tries} times holding this logout token`)));
        else assign(id, p);
      }
    });
    return thread;
  }

  /** To the thread holding the fewest tokens. */
  function assign(id: number, p: Pending): void {
    let best: Thread | undefined;
    for (const t of threads) if (!best || t.holding.size < best.holding.size) best = t;
    const thread = best!;
    p.thread = thread;
    if (thread.holding.size === 0) thread.worker.ref();
    thread.holding.add(id);
    thread.enqueue({ id, job: p.job });
  }

  for (let i = 0; i < count; i++) threads.add(start());

  return {
    deliver(job) {
      if (closing) return Promise.reject(new Error('the signing pool is closed'));
      if (!available) return Promise.reject(new Error('the signing threads failed'));
      return new Promise<Outcome>((resolve, reject) => {
        const id = nextId++;
        const p: Pending = { job, tries: 0, resolve, reject };
        pending.set(id, p);
        assign(id, p);
      });
    },
    get size() {
      return threads.size;
    },
    get available() {
      return available;
    },
    threads: () => [...threads].map((t) => t.worker),
    async close() {
      closing = true;
      await Promise.all([...threads].map((t) => t.worker.terminate()));
      for (const id of [...pending.keys()]) settle(id, (p) => p.reject(new Error('the signing pool closed')));
    },
  };
}

/** The thread's side: sign with the shared signer, POST with its own connection pools, reply in batches. */
function runThread(data: ThreadData): void {
  const port = parentPort!;
  const sign = createLogoutTokenSigner(data.jwks);
  const poster = createTokenPoster(data.poster);
  const reply = batcher<Reply>((replies) => port.postMessage(replies));
  port.on('message', (requests: Request[]) => {
    for (const { id, job } of requests) {
      sign(job.claims, job.alg)
        .then((token) => poster.post(new URL(job.url), job.allowListed, token))
        .then(
          (outcome) => reply({ id, outcome }),
          (err: unknown) => reply({ id, error: err instanceof Error ? err.message : String(err) }),
        );
    }
  });
}

if (!isMainThread && (workerData as Partial<ThreadData> | null)?.role === ROLE) runThread(workerData as ThreadData);
