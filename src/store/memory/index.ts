import { systemClock, type Clock } from '../../clock.ts';
import type { RateLimitOptions, Store } from '../types.ts';
import { createMemoryAttempts } from './attempts.ts';
import { createMemoryAudit } from './audit.ts';
import { createMemoryChanges } from './changes.ts';
import { publishDirectoryChanges } from '../publish-directory-changes.ts';
import { createMemoryDeliveries } from './deliveries.ts';
import { createMemoryDirectory } from './directory.ts';
import { createMemoryMarker } from './marker.ts';
import { createMemoryMfa } from './mfa.ts';
import { createMemoryModels } from './models.ts';
import { createMemoryOutbox } from './outbox.ts';
import { createMemorySecrets } from './secrets.ts';
import { createMemorySessions } from './sessions.ts';

/**
 * Everything in this process's memory: the embedded default of `npm start`, and a fast store
 * for tests. Every expiry is judged lazily on read against the injected clock (default: the
 * system clock), so tests move time by hand; an unref'd purge drops dead records now and then
 * and stops at `close()`. Each operation runs without an await inside, so it is atomic within
 * the process.
 */
export function createMemoryStore(options: { clock?: Clock } = {}): Store {
  const clock = options.clock ?? systemClock;
  const models = createMemoryModels(clock);
  // Purge dead records now and then; unref'd so an idle process can still exit.
  const attempts = createMemoryAttempts(clock);
  const purger = setInterval(() => {
    models.purge();
    attempts.purge();
  }, 60_000);
  purger.unref();

  const deliveries = createMemoryDeliveries(clock);
  const ended = createMemoryOutbox(clock, deliveries);
  const changes = createMemoryChanges();
  return {
    kind: 'memory',
    models,
    directory: publishDirectoryChanges(createMemoryDirectory(), changes),
    secrets: createMemorySecrets(),
    marker: createMemoryMarker(clock),
    audit: createMemoryAudit(clock),
    sessions: createMemorySessions(clock, ended),
    mfa: createMemoryMfa(),
    deliveries,
    ended,
    changes,
    rateLimiter: (o: RateLimitOptions) => attempts.limiter(o),
    async now() {
      return clock.now();
    },
    async ping() {},
    async close() {
      clearInterval(purger);
    },
  };
}

