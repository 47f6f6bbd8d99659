import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, withoutFaketime } from './process.ts';

/**
 * A Redis of a test's own (Debian's redis-server on a free loopback port), to wipe, kill -9 and
 * start again without touching the Redis other suites share. `persistent`: every write fsynced
 * to an append-only file, so killed and started again on the same directory it comes back with
 * everything it acknowledged — a Redis restart as production sees one. Without it, a restart
 * comes back empty — a Redis that lost its state.
 */
export class RedisServer {
  readonly dir = mkdtempSync(join(tmpdir(), 'curfew-redis-'));
  readonly #persistent: boolean;
  readonly #args: string[];
  readonly #password: string | undefined;
  #child: ChildProcess | undefined;
  port = 0;

  /**
   * `args`: more redis-server options, e.g. `--replicaof 127.0.0.1 <port>` for a replica.
   * `password`: clients must AUTH with it (`requirepass`), and a replica uses it with its primary.
   */
  constructor(options: { persistent?: boolean; args?: string[]; password?: string } = {}) {
    this.#persistent = options.persistent ?? false;
    this.#password = options.password;
    this.#args = [...(options.password ? ['--requirepass', options.password, '--masterauth', options.password] : []), ...(options.args ?? [])];
  }

  get url(): string {
    return `redis://${this.#password ? `:${encodeURIComponent(this.#password)}@` : ''}127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const persistence = this.#persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn('/usr/bin/redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir, ...this.#args], { stdio: 'ignore', env: withoutFaketime() });
    this.#child = child;
    for (let i = 0; ; i++) {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        // Loading the AOF answers LOADING until done; PING only succeeds once it serves.
        await probe.ping();
        return;
      } catch (err) {
        if (i > 200 || child.exitCode !== null) throw new Error(`redis-server did not start on ${this.port}: ${String(err)}`);
        await new Promise((r) => setTimeout(r, 25));
      } finally {
        probe.disconnect();
      }
    }
  }

  /** Whether the server process is running. */
  async alive(): Promise<boolean> {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** SIGKILL: no shutdown save, no goodbye to clients; only what the AOF holds survives. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  async flushAll(): Promise<void> {
    const client = new Redis(this.url, { maxRetriesPerRequest: 1 });
    try {
      await client.flushall();
    } finally {
      client.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A direct connection to one node of a test's own setup, failing fast (no reconnect storm in a test's cleanup). */
export function directConnection(port: number, password: string): Redis {
  const redis = new Redis({ host: '127.0.0.1', port, password, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  return redis;
}
