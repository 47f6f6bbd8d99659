/**
 * The RPs' back-channel logout endpoints: one loopback server per client. Every token is
 * verified with jose against the provider's JWKS (signature, iss, aud = the client, typ
 * logout+jwt, the back-channel event, a sid) before it counts; each arrival is recorded with
 * its sid, jti, the answer given and the time it arrived.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export type ReceiverMode = 'ok' | 'down' | 'reject';
const BCL_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface Arrival {
  client: string;
  sid: string;
  jti: string;
  at: number;
  /** What the receiver answered: 200 counts as delivered; 400 is a rejection (dead letter); 503 a refusal to be retried. */
  answered: 200 | 400 | 503;
}

export class Receiver {
  readonly client: string;
  mode: ReceiverMode = 'ok';
  readonly arrivals: Arrival[] = [];
  /** Tokens that failed verification (bad signature, wrong aud/iss/typ, no sid): must be none. */
  readonly invalid: string[] = [];
  #server: Server | undefined;
  #jwks: ReturnType<typeof createRemoteJWKSet>;
  #issuer: string;

  constructor(client: string, issuer: string, jwksUri: string) {
    this.client = client;
    this.#issuer = issuer;
    this.#jwks = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 2000, cooldownDuration: 1000 });
  }

  get uri(): string {
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}/bcl`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', () => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const at = Date.now();
    const mode = this.mode;
    if (mode === 'down') {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
    const token = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('logout_token');
    if (!token) {
      this.invalid.push('no logout_token');
      res.writeHead(400).end();
      return;
    }
    try {
      const { payload } = await jwtVerify(token, this.#jwks, { issuer: this.#issuer, audience: this.client, typ: 'logout+jwt' });
      const events = payload.events as Record<string, unknown> | undefined;
      if (typeof payload.sid !== 'string' || typeof payload.jti !== 'string' || !events || typeof events[BCL_EVENT] !== 'object' || 'nonce' in payload) {
        throw new Error(`claims: ${JSON.stringify(payload)}`);
      }
      const answered = mode === 'reject' ? 400 : 200;
      this.arrivals.push({ client: this.client, sid: payload.sid, jti: payload.jti, at, answered });
      res.writeHead(answered).end();
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // The JWKS could not be fetched (the provider is down): not the token's fault; ask for a retry.
      if (code.startsWith('ERR_JWKS') && code !== 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JOSE_GENERIC' || (err as Error).name === 'TimeoutError') {
        res.writeHead(503).end();
        return;
      }
      this.invalid.push(`${code}: ${(err as Error).message}`);
      res.writeHead(400).end();
    }
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
