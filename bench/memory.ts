/**
 * Redis memory per SSO session with 2 RP sessions and their live tokens, Curfew beside bare
 * oidc-provider 9: N users each sign in to one app and then, through the same browser session,
 * to a second; the bytes (MEMORY USAGE of every key under the server's prefix) and keys added by
 * those sign-ins, divided by N. Tokens are the ones a real RP holds: a code redeemed for an
 * access and a refresh token per app.
 *
 *   npm run bench:memory        BENCH_USERS=100
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { UserAgent } from '../test/support/user-agent.ts';
import { machine, REDIS_URL, ROOT, signIn, startBare, startCurfew, type Server } from './servers/index.ts';

const USERS = Number(process.env.BENCH_USERS ?? 100);
const PASSWORD = 'bench password 1';

/** A key's kind: its name under the prefix with every identifier (a hash, an id, a number) as `*`. */
export function keyKind(key: string, prefix: string): string {
  return key
    .slice(prefix.length)
    .split(':')
    .map((part) => (/^[A-Za-z_-]{1,24}$/.test(part) && !/^[A-Za-z0-9_-]{20,}$/.test(part) ? part : '*'))
    .join(':');
}

interface Footprint {
  bytes: number;
  keys: number;
  /** By key kind: bytes and keys. */
  kinds: Map<string, { bytes: number; keys: number }>;
}

async function footprint(redis: Redis, prefix: string): Promise<Footprint> {
  let cursor = '0';
  const result: Footprint = { bytes: 0, keys: 0, kinds: new Map() };
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const bytes = (await redis.memory('USAGE', key)) ?? 0;
      result.bytes += bytes;
      result.keys++;
      const kind = result.kinds.get(keyKind(key, prefix)) ?? { bytes: 0, keys: 0 };
      result.kinds.set(keyKind(key, prefix), { bytes: kind.bytes + bytes, keys: kind.keys + 1 });
    }
  } while (cursor !== '0');
  return result;
}

interface Measured {
  bytesPerSession: number;
  keysPerSession: number;
  /** The redeemed authorization codes: kept only for their lifetime (60 s), to refuse a replay. */
  codeBytesPerSession: number;
  /** The audit log's events of the sign-ins (Curfew's; kept for its retention, not the session's life). */
  auditBytesPerSession: number;
  /** Per SSO session, by key kind (largest first). */
  breakdown: Array<{ kind: string; bytes: number; keys: number }>;
}

async function measure(server: Server, redis: Redis): Promise<Measured> {
  const before = await footprint(redis, server.prefix);
  for (let i = 0; i < USERS; i++) {
    const login = { username: `user${i}`, password: PASSWORD };
    const ua = new UserAgent(server.url);
    await signIn(server, 'bench-app', login, ua);
    await signIn(server, 'bench-other', login, ua);
  }
  const after = await footprint(redis, server.prefix);
  const breakdown = [...after.kinds]
    .map(([kind, k]) => {
      const was = before.kinds.get(kind) ?? { bytes: 0, keys: 0 };
      return { kind, bytes: (k.bytes - was.bytes) / USERS, keys: (k.keys - was.keys) / USERS };
    })
    .filter((k) => k.keys !== 0 || Math.abs(k.bytes) >= 1)
    .sort((a, b) => b.bytes - a.bytes);
  const of = (match: RegExp) => breakdown.filter((k) => match.test(k.kind)).reduce((sum, k) => sum + k.bytes, 0);
  return {
    bytesPerSession: (after.bytes - before.bytes) / USERS,
    keysPerSession: (after.keys - before.keys) / USERS,
    codeBytesPerSession: of(/(^|:)AuthorizationCode:/),
    auditBytesPerSession: of(/^audit:/),
    breakdown,
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const users = Array.from({ length: USERS }, (_, i) => ({ username: `user${i}`, password: PASSWORD }));
  const servers = [await startCurfew({ users }), await startBare()];
  try {
    const rows = [];
    for (const s of servers) rows.push({ server: s.name, ...(await measure(s, redis)) });
    const result = { machine: machine(), users: USERS, prefixes: { curfew: 'cb<port>:', bare: 'bb<port>:' }, rows };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/memory.json'), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write([
      `Redis per SSO session with 2 RP sessions and their live tokens, ${USERS} sessions (${result.machine})`,
      '',
      '| Server | bytes / session | keys / session | of which redeemed codes (gone after 60 s) | of which audit events |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.server === 'bare' ? 'bare oidc-provider 9' : 'Curfew'} | ${kib(r.bytesPerSession)} | ${r.keysPerSession.toFixed(1)} | ${kib(r.codeBytesPerSession)} | ${kib(r.auditBytesPerSession)} |`),
      '',
      ...rows.flatMap((r) => [
        `${r.server === 'bare' ? 'bare oidc-provider 9' : 'Curfew'}, by key (MEMORY USAGE, per SSO session):`,
        '',
        '| Key | bytes | keys |',
        '| --- | --- | --- |',
        ...r.breakdown.map((k) => `| \`${k.kind}\` | ${k.bytes.toFixed(0)} | ${k.keys.toFixed(2)} |`),
        '',
      ]),
    ].join('\n'));
  } finally {
    for (const s of servers) await s.stop();
    redis.disconnect();
  }
}

await main();
