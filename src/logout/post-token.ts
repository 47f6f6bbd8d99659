import { Agent, request, type Dispatcher } from 'undici';
import { isPermanentFailure } from './backoff.ts';
import { guardedLookup } from './ssrf.ts';

/** What one POST of a logout token came to (SPEC §9: a 4xx other than 408/429 is final). */
export type Outcome = { kind: 'delivered'; status: number } | { kind: 'permanent' | 'transient'; error: string; status?: number };

export interface PosterOptions {
  timeoutMs: number;
  /** Open connections per RP origin. */
  concurrencyPerClient: number;
}

export interface TokenPoster {
  /** POSTs `logout_token` to `url`; never throws, the failure is the outcome. */
  post(url: URL, allowListed: boolean, token: string): Promise<Outcome>;
  close(): Promise<void>;
}

/**
 * The back-channel POST, on keep-alive connections with a concurrency limit per RP origin and a
 * timeout per attempt. Allow-listed origins may be loopback/private; every other origin is
 * resolved through the SSRF guard. One per sender, or one per signing thread (signing-pool.ts):
 * each event loop that posts owns its connection pools.
 */
export function createTokenPoster(options: PosterOptions): TokenPoster {
  const agentOptions = { connections: options.concurrencyPerClient, keepAliveTimeout: 30_000, connectTimeout: options.timeoutMs };
  const allowListedAgent = new Agent(agentOptions);
  const guardedAgent = new Agent({ ...agentOptions, connect: { lookup: guardedLookup } as Agent.Options['connect'] });
  let closed: Promise<void> | undefined;

  async function post(url: URL, dispatcher: Dispatcher, token: string): Promise<Outcome> {
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' },
        body: new URLSearchParams({ logout_token: token }).toString(),
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      await res.body.dump({ limit: 64 * 1024 });
      if (res.statusCode >= 200 && res.statusCode < 300) return { kind: 'delivered', status: res.statusCode };
      const error = `HTTP ${res.statusCode}`;
      return { kind: isPermanentFailure(res.statusCode) ? 'permanent' : 'transient', error, status: res.statusCode };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === 'ESPECIALADDRESS') return { kind: 'permanent', error: e.message ?? 'special-use address' };
      return { kind: 'transient', error: e.code ?? e.message ?? 'network error' };
    }
  }

  return {
    post: (url, allowListed, token) => post(url, allowListed ? allowListedAgent : guardedAgent, token),
    close() {
      // Once: closing again must not close the closed connection pools.
      closed ??= Promise.all([allowListedAgent.close(), guardedAgent.close()]).then(() => undefined);
      return closed;
    },
  };
}
