import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

export interface ReceivedToken {
  client: string;
  payload: JWTPayload & { sid?: string; events?: Record<string, unknown>; nonce?: unknown };
  header: ProtectedHeaderParameters;
  receivedAt: number;
}

/**
 * RPs' back-channel logout endpoints on loopback: each path `/bcl/<client>` verifies the
 * logout token with jose against the provider's JWKS (signature, iss, aud = client) and
 * records it. Tests choose how the RP answers (200, 400, 503, or hang).
 */
export class RpReceiver {
  readonly received: ReceivedToken[] = [];
  readonly rejected: string[] = [];
  /** Per client: the status to answer with, or 'hang' to never answer. */
  readonly behaviour = new Map<string, number | 'hang'>();
  requests = 0;
  #server: Server | undefined;
  #issuer = '';
  #jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  #clock: (() => Promise<number>) | undefined;
  #waiters: Array<() => void> = [];
  #hanging: Array<() => void> = [];

  get url(): string {
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  uri(client: string): string {
    return `${this.url}/bcl/${client}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
  }

  /**
   * The provider to verify against, once it runs. `clock`: the time this RP judges `exp` by,
   * when it must agree with the provider's shared clock rather than this machine's (a logout
   * token is stamped with the shared clock, which a test may have set apart from the machine's).
   */
  trust(issuer: string, jwksUri: string, clock?: () => Promise<number>): void {
    this.#issuer = issuer;
    this.#jwks = createRemoteJWKSet(new URL(jwksUri));
    this.#clock = clock;
  }

  async #handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    this.requests++;
    const client = decodeURIComponent(req.url!.split('/')[2] ?? '');
    let body = '';
    for await (const chunk of req) body += chunk;
    const behaviour = this.behaviour.get(client) ?? 200;
    if (behaviour === 'hang') {
      this.#hanging.push(() => res.destroy());
      this.#notify();
      return;
    }
    if (behaviour !== 200) {
      res.writeHead(behaviour).end();
      this.#notify();
      return;
    }
    const token = new URLSearchParams(body).get('logout_token') ?? '';
    try {
      const currentDate = this.#clock ? { currentDate: new Date(await this.#clock()) } : {};
      const { payload, protectedHeader } = await jwtVerify(token, this.#jwks!, { issuer: this.#issuer, audience: client, typ: 'logout+jwt', ...currentDate });
      this.received.push({ client, payload, header: protectedHeader, receivedAt: Date.now() });
      res.writeHead(200, { 'cache-control': 'no-store' }).end();
    } catch (err) {
      this.rejected.push(`${client}: ${(err as Error).message}`);
      res.writeHead(400).end();
    }
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves once `predicate` holds, checking after every request (bounded by `timeoutMs`). */
  async waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met in ${timeoutMs} ms (received ${this.received.length}, requests ${this.requests})`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  async close(): Promise<void> {
    for (const drop of this.#hanging.splice(0)) drop();
    this.#server?.closeAllConnections();
    await new Promise((r) => this.#server?.close(r));
  }
}
