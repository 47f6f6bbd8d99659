import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RedisTarget } from '../../src/store/redis/connection.ts';
import { freePort, withoutFaketime } from './process.ts';
import { directConnection, RedisServer } from './redis-server.ts';
import { untilAnswers } from './wait.ts';

const direct = (port: number) => directConnection(port, CLUSTER_PASSWORD);

const run = promisify(execFile);

/** The nodes' password (`requirepass` and `masterauth`), given to Curfew in REDIS_URL, as in production. */
export const CLUSTER_PASSWORD = 'cluster-setup-password';

/** Redis' key slot: CRC16 (XMODEM) of the key's hash tag if it has a non-empty one, else of the key, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  let crc = 0;
  for (const byte of Buffer.from(hashed)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/**
 * A Redis Cluster of a test's own: three primaries (and, if asked, a replica each) from Debian's redis-server on
 * free loopback ports, each with its cluster bus on a port of its own and its node file in its
 * own temp dir, joined by `redis-cli --cluster create`. Persistent (AOF, fsync always), so a
 * primary killed and started again comes back with what it acknowledged; and
 * `cluster-require-full-coverage no`, so while one primary is down the others keep serving
 * their slots.
 */
export class RedisCluster {
  readonly primaries: RedisServer[] = [];
  /** With `replicas: 1`, one replica per primary (a failover swaps a pair's places in these lists). */
  readonly replicas: RedisServer[] = [];
  readonly #replicasPerPrimary: number;

  constructor(options: { replicas?: 0 | 1 } = {}) {
    this.#replicasPerPrimary = options.replicas ?? 0;
  }

  get #nodes(): number {
    return 3 * (1 + this.#replicasPerPrimary);
  }

  /** Seed nodes and credentials, as Curfew is configured (CURFEW_REDIS_CLUSTER, REDIS_URL). */
  get target(): RedisTarget & { cluster: { nodes: string[] } } {
    return { url: this.url, cluster: { nodes: this.primaries.map((p) => `127.0.0.1:${p.port}`) } };
  }

  /** REDIS_URL with a cluster: the password; the host is one seed among the others. */
  get url(): string {
    return `redis://:${CLUSTER_PASSWORD}@127.0.0.1:${this.primaries[0]!.port}`;
  }

  async start(): Promise<void> {
    const servers: RedisServer[] = [];
    for (let i = 0; i < this.#nodes; i++) {
      // The bus port is chosen too: the default (port + 10000) may be taken or out of range.
      const bus = await freePort();
      const server = new RedisServer({
        persistent: true,
        password: CLUSTER_PASSWORD,
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(bus), '--cluster-node-timeout', '1000', '--cluster-require-full-coverage', 'no'],
      });
      await server.start();
      servers.push(server);
    }
    const nodes = servers.map((p) => `127.0.0.1:${p.port}`);
    // redis-cli makes the first three nodes primaries and the rest their replicas.
    await run('/usr/bin/redis-cli', ['-a', CLUSTER_PASSWORD, '--no-auth-warning', '--cluster', 'create', ...nodes, '--cluster-replicas', String(this.#replicasPerPrimary), '--cluster-yes'], { env: withoutFaketime(), timeout: 20_000 });
    for (const server of servers) (await this.#role(server.port)) === 'master' ? this.primaries.push(server) : this.replicas.push(server);
    for (const p of servers) await this.#untilOk(p.port);
    for (const replica of this.replicas) await this.#untilInSync(replica);
  }

  async #role(port: number): Promise<string> {
    const r = direct(port);
    try {
      return String(((await r.call('ROLE')) as unknown[])[0]);
    } finally {
      r.disconnect();
    }
  }

  /** A replica is in sync once its link to its primary is up (ROLE: slave, host, port, 'connected'). */
  async #untilInSync(replica: RedisServer): Promise<void> {
    await untilAnswers(`replica ${replica.port} in sync`, async () => {
      const r = direct(replica.port);
      try {
        const role = (await r.call('ROLE')) as unknown[];
        return role[0] === 'slave' && role[3] === 'connected' ? true : undefined;
      } finally {
        r.disconnect();
      }
    });
  }

  /**
   * A manual failover of `primary` (CLUSTER FAILOVER on its replica): the replica catches up with
   * the primary's writes, then takes its slots; the old primary becomes its replica. Waits until
   * every node sees the cluster ok with the new roles, and swaps the two in `primaries`/`replicas`.
   */
  async failover(primary: RedisServer): Promise<RedisServer> {
    let replica: RedisServer | undefined;
    for (const candidate of this.replicas) {
      const r = direct(candidate.port);
      try {
        const role = (await r.call('ROLE')) as unknown[];
        if (Number(role[2]) === primary.port) replica = candidate;
      } finally {
        r.disconnect();
      }
    }
    if (!replica) throw new Error(`primary ${primary.port} has no replica`);
    const r = direct(replica.port);
    try {
      await r.call('CLUSTER', 'FAILOVER');
    } finally {
      r.disconnect();
    }
    const promoted = replica;
    await untilAnswers(`replica ${promoted.port} promoted`, async () => ((await this.#role(promoted.port)) === 'master' ? true : undefined));
    this.primaries[this.primaries.indexOf(primary)] = promoted;
    this.replicas[this.replicas.indexOf(promoted)] = primary;
    await this.untilWhole();
    await this.#untilInSync(primary);
    return promoted;
  }

  async #untilOk(port: number): Promise<void> {
    await untilAnswers(`node ${port} to see the cluster ok`, async () => {
      const r = direct(port);
      try {
        const info = (await r.call('CLUSTER', 'INFO')) as string;
        return /cluster_state:ok/.test(info) && new RegExp(`cluster_known_nodes:${this.#nodes}\\b`).test(info) ? true : undefined;
      } finally {
        r.disconnect();
      }
    });
  }

  /** The primary serving each key's slot (CLUSTER SLOTS, asked once). */
  async primariesOf(keys: string[]): Promise<RedisServer[]> {
    const r = direct(this.primaries[0]!.port);
    try {
      const ranges = (await r.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
      return keys.map((key) => {
        const slot = keySlot(key);
        const range = ranges.find(([from, to]) => slot >= from && slot <= to);
        const server = this.primaries.find((p) => p.port === range?.[2][1]);
        if (!server) throw new Error(`no primary serves slot ${slot}`);
        return server;
      });
    } finally {
      r.disconnect();
    }
  }

  /** The keys under `prefix` on one primary (SCAN). */
  async keysOn(server: RedisServer, prefix: string): Promise<string[]> {
    const r = direct(server.port);
    try {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        found.push(...keys);
      } while (cursor !== '0');
      return found;
    } finally {
      r.disconnect();
    }
  }

  /** Session id (uid) → the primary holding its record, read from each primary's own keys under `prefix`. */
  async sessionsByPrimary(prefix: string): Promise<Map<string, RedisServer>> {
    const where = new Map<string, RedisServer>();
    for (const server of this.primaries) {
      for (const key of (await this.keysOn(server, prefix)).filter((k) => k.includes('}sso:'))) {
        const record = await this.getOn(server, key);
        if (record) where.set((JSON.parse(record) as { id: string }).id, server);
      }
    }
    return where;
  }

  /** How many connections named `name` (CLIENT SETNAME) one primary has. */
  async clientsNamed(server: RedisServer, name: string): Promise<number> {
    const r = direct(server.port);
    try {
      const list = (await r.call('CLIENT', 'LIST', 'TYPE', 'normal')) as string;
      return list.split('\n').filter((line) => line.split(' ').includes(`name=${name}`)).length;
    } finally {
      r.disconnect();
    }
  }

  /** One key's string value, read on a given primary. */
  async getOn(server: RedisServer, key: string): Promise<string | null> {
    const r = direct(server.port);
    try {
      return await r.get(key);
    } finally {
      r.disconnect();
    }
  }

  /** Whether one primary holds the function library `name` (FUNCTION LIST). */
  async hasLibrary(server: RedisServer, name: string): Promise<boolean> {
    const r = direct(server.port);
    try {
      return ((await r.call('FUNCTION', 'LIST', 'LIBRARYNAME', name)) as unknown[]).length > 0;
    } finally {
      r.disconnect();
    }
  }

  /** FUNCTION FLUSH on one primary: its libraries are gone, its clients stay connected. */
  async flushFunctions(server: RedisServer): Promise<void> {
    const r = direct(server.port);
    try {
      await r.call('FUNCTION', 'FLUSH');
    } finally {
      r.disconnect();
    }
  }

  /** Deletes every key under the prefix on every primary (each key alone: they span slots). */
  async deletePrefix(prefix: string): Promise<void> {
    for (const server of this.primaries) {
      if (!(await server.alive())) continue;
      const keys = await this.keysOn(server, prefix);
      const r = direct(server.port);
      try {
        for (const key of keys) await r.unlink(key);
      } finally {
        r.disconnect();
      }
    }
  }

  /** Starts a killed primary again on its port and directory (its node file, its AOF), and waits for the cluster to be whole. */
  async restart(server: RedisServer): Promise<void> {
    await server.start();
    await this.untilWhole();
  }

  /** Waits until every node sees the cluster ok again. */
  async untilWhole(): Promise<void> {
    for (const p of [...this.primaries, ...this.replicas]) await this.#untilOk(p.port);
  }

  async close(): Promise<void> {
    await Promise.all([...this.primaries, ...this.replicas].map((p) => p.close()));
  }
}
