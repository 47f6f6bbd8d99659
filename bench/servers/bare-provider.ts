/**
 * Bare oidc-provider 9 — the baseline Curfew is measured against: the library with a plain
 * Redis adapter (one key per record, JSON, relative TTLs), its dev interactions for sign-in,
 * refresh tokens issued and rotated on every use, session-bound like Curfew's. Nothing of
 * Curfew's: no enforcement, no audit, no identifier hashing.
 *
 *   node bench/servers/bare-provider.ts   (REDIS_URL, BENCH_PREFIX, PORT)   prints `listening <port>`
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = process.env.BENCH_PREFIX ?? 'bare-bench:';
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

class RedisAdapter implements Adapter {
  readonly #name: string;
  constructor(name: string) {
    this.#name = name;
  }
  #key(id: string) {
    return `${prefix}${this.#name}:${id}`;
  }
  async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
    const tx = redis.multi();
    tx.set(this.#key(id), JSON.stringify(payload), 'EX', expiresIn);
    if (GRANTABLE.has(this.#name) && payload.grantId) {
      const grantKey = `${prefix}grant:${payload.grantId}`;
      tx.rpush(grantKey, this.#key(id)).expire(grantKey, expiresIn);
    }
    if (payload.uid) tx.set(`${prefix}uid:${payload.uid}`, id, 'EX', expiresIn);
    await tx.exec();
  }
  async find(id: string): Promise<AdapterPayload | undefined> {
    const raw = await redis.get(this.#key(id));
    return raw ? (JSON.parse(raw) as AdapterPayload) : undefined;
  }
  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = await redis.get(`${prefix}uid:${uid}`);
    return id ? this.find(id) : undefined;
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async consume(id: string): Promise<void> {
    const raw = await redis.get(this.#key(id));
    if (!raw) return;
    await redis.set(this.#key(id), JSON.stringify({ ...(JSON.parse(raw) as object), consumed: Math.floor(Date.now() / 1000) }), 'KEEPTTL');
  }
  async destroy(id: string): Promise<void> {
    await redis.del(this.#key(id));
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `${prefix}grant:${grantId}`;
    const keys = await redis.lrange(grantKey, 0, -1);
    await redis.del(...keys, grantKey);
  }
}

const port = Number(process.env.PORT ?? 0);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  adapter: RedisAdapter,
  clients: ['bench-app', 'bench-other'].map((client_id) => ({
    client_id,
    client_secret: `${client_id}-secret-0123456789`,
    redirect_uris: ['https://rp.example/cb'],
    grant_types: ['authorization_code', 'refresh_token'],
  })),
  cookies: { keys: ['bench-cookie-key-0123456789abcdef0123456789'] },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: { devInteractions: { enabled: true } },
  issueRefreshToken: async () => true,
  rotateRefreshToken: true,
  pkce: { required: () => true },
});
// The dev interactions warn on every start; the baseline's console stays quiet.
provider.on('server_error', (_ctx, err) => process.stderr.write(`bare: ${String(err)}\n`));

const server = createServer(provider.callback());
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => redis.quit().finally(() => process.exit(0))));
