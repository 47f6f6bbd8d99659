import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SentinelTarget } from '../../src/store/redis/connection.ts';
import { freePort, withoutFaketime } from './process.ts';
import { directConnection, RedisServer } from './redis-server.ts';
import { untilAnswers } from './wait.ts';

const direct = (port: number) => directConnection(port, SENTINEL_SETUP_PASSWORD);

const NAME = 'curfew-test';
const QUORUM = 2;
/** How long a silent primary takes to be judged down; a forced failover does not wait for it. */
const DOWN_AFTER_MS = 1_000;

/**
 * The one password of the setup: the data nodes' (`requirepass`, in REDIS_URL) and the
 * sentinels' own (CURFEW_REDIS_SENTINEL_PASSWORD), so a test proves Curfew uses both.
 */
export const SENTINEL_SETUP_PASSWORD = 'sentinel-setup-password';

/**
 * A Redis Sentinel deployment of a test's own, from Debian's redis-server on free loopback
 * ports: a primary, a replica of it, and three sentinels (quorum 2) watching them, all behind
 * passwords as in production. Each sentinel has its own generated config file (a sentinel
 * rewrites it as it learns).
 */
export class SentinelSetup {
  readonly name = NAME;
  readonly primary = new RedisServer({ password: SENTINEL_SETUP_PASSWORD });
  replica: RedisServer | undefined;
  readonly sentinelPorts: number[] = [];
  readonly #dir = mkdtempSync(join(tmpdir(), 'curfew-sentinel-'));
  readonly #sentinels: ChildProcess[] = [];

  get target(): SentinelTarget {
    return { hosts: this.sentinelPorts.map((p) => `127.0.0.1:${p}`), name: NAME, password: SENTINEL_SETUP_PASSWORD };
  }

  /** REDIS_URL with Sentinel: the data nodes' password; the host is never dialled. */
  readonly url = `redis://:${SENTINEL_SETUP_PASSWORD}@sentinel-names-the-primary.invalid:6379`;

  async start(): Promise<void> {
    await this.primary.start();
    this.replica = new RedisServer({ password: SENTINEL_SETUP_PASSWORD, args: ['--replicaof', '127.0.0.1', String(this.primary.port)] });
    await this.replica.start();
    await this.#replicated(this.replica.port);
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const conf = join(this.#dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${this.#dir}`,
          `sentinel monitor ${NAME} 127.0.0.1 ${this.primary.port} ${QUORUM}`,
          `sentinel auth-pass ${NAME} ${SENTINEL_SETUP_PASSWORD}`,
          `requirepass ${SENTINEL_SETUP_PASSWORD}`,
          `sentinel sentinel-pass ${SENTINEL_SETUP_PASSWORD}`,
          `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${NAME} 10000`,
          `sentinel parallel-syncs ${NAME} 1`,
          '',
        ].join('\n'),
      );
      this.#sentinels.push(spawn('/usr/bin/redis-server', [conf, '--sentinel'], { stdio: 'ignore', env: withoutFaketime() }));
      this.sentinelPorts.push(port);
    }
    // Every sentinel must know the replica (it learns it from the primary's INFO) and its peers
    // (from their hello messages) before a failover can pick the replica and the news spread.
    for (const port of this.sentinelPorts) {
      await untilAnswers(`sentinel ${port} to see the replica and its peers`, async () => {
        const s = direct(port);
        try {
          const replicas = (await s.call('SENTINEL', 'REPLICAS', NAME)) as string[][];
          const peers = (await s.call('SENTINEL', 'SENTINELS', NAME)) as string[][];
          return replicas.length === 1 && peers.length === 2 ? true : undefined;
        } finally {
          s.disconnect();
        }
      });
    }
  }

  /** The port of the server the sentinels name as primary now. */
  async primaryPort(): Promise<number> {
    const s = direct(this.sentinelPorts[0]!);
    try {
      const [, port] = (await s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string];
      return Number(port);
    } finally {
      s.disconnect();
    }
  }

  /** How many connections named `name` (CLIENT SETNAME) one server has. */
  async clientsNamed(port: number, name: string): Promise<number> {
    const r = direct(port);
    try {
      const list = (await r.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
      return list.split('\n').filter((line) => line.split(' ').includes(`name=${name}`)).length;
    } finally {
      r.disconnect();
    }
  }

  /** FUNCTION FLUSH on one server: its function libraries are gone, its clients stay connected. */
  async flushFunctions(port: number): Promise<void> {
    const r = direct(port);
    try {
      await r.call('FUNCTION', 'FLUSH');
    } finally {
      r.disconnect();
    }
  }

  /** Whether one server holds the function library `name` (FUNCTION LIST). */
  async hasLibrary(port: number, name: string): Promise<boolean> {
    const r = direct(port);
    try {
      return ((await r.call('FUNCTION', 'LIST', 'LIBRARYNAME', name)) as unknown[]).length > 0;
    } finally {
      r.disconnect();
    }
  }

  /** `INFO` of one server as field → value. */
  async info(port: number, section: string): Promise<Record<string, string>> {
    const r = direct(port);
    try {
      const text = await r.info(section);
      return Object.fromEntries(text.split(/\r?\n/).filter((l) => l.includes(':')).map((l) => l.split(':', 2) as [string, string]));
    } finally {
      r.disconnect();
    }
  }

  async #replicated(port: number): Promise<void> {
    await untilAnswers(`the replica on ${port} to be in sync`, async () => ((await this.info(port, 'replication')).master_link_status === 'up' ? true : undefined));
  }

  /**
   * A forced failover to the replica, after the primary has confirmed (WAIT) that the replica
   * holds every write it acknowledged: a planned switch loses nothing. Resolves once every
   * sentinel names the replica as primary and it serves as one. The old primary is turned into
   * a replica only on a sentinel's next look at it (~15 s later): until then it still takes
   * writes, so a client that did not follow the switch would go on writing where nothing lasts.
   */
  async failover(): Promise<{ from: number; to: number }> {
    const from = await this.primaryPort();
    const to = this.replica!.port === from ? this.primary.port : this.replica!.port;
    const old = direct(from);
    try {
      const acked = (await old.call('WAIT', '1', '5000')) as number;
      if (acked < 1) throw new Error('the replica did not confirm the primary\'s writes');
    } finally {
      old.disconnect();
    }
    const s = direct(this.sentinelPorts[0]!);
    try {
      await s.call('SENTINEL', 'FAILOVER', NAME);
    } finally {
      s.disconnect();
    }
    for (const port of this.sentinelPorts) {
      await untilAnswers(`sentinel ${port} to name ${to} the primary`, async () => {
        const c = direct(port);
        try {
          const [, p] = (await c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as [string, string];
          return Number(p) === to ? true : undefined;
        } finally {
          c.disconnect();
        }
      });
    }
    await untilAnswers(`${to} to serve as primary`, async () => ((await this.info(to, 'replication')).role === 'master' ? true : undefined));
    return { from, to };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#sentinels.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }),
    );
    await this.replica?.close();
    await this.primary.close();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
