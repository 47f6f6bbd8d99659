import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy a test can freeze: while frozen, bytes stay where they are in both
 * directions (no reset, no close), as when the network to a server stalls. Thawing lets them
 * through again. For outages of a real Redis that other suites share and must not lose.
 */
export class TcpProxy {
  #server: Server | undefined;
  #pairs = new Set<[Socket, Socket]>();
  #frozen = false;
  readonly #upstream: { host: string; port: number };

  constructor(upstream: { host: string; port: number }) {
    this.#upstream = upstream;
  }

  /** Listens on `port` (0: any free one) and answers which. */
  async start(port = 0): Promise<number> {
    this.#server = createServer((client) => {
      const server = createConnection(this.#upstream);
      const pair: [Socket, Socket] = [client, server];
      this.#pairs.add(pair);
      client.pipe(server);
      server.pipe(client);
      if (this.#frozen) for (const s of pair) s.pause();
      const drop = () => {
        this.#pairs.delete(pair);
        client.destroy();
        server.destroy();
      };
      client.on('error', drop).on('close', drop);
      server.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', () => resolve()));
    return (this.#server!.address() as AddressInfo).port;
  }

  freeze(): void {
    this.#frozen = true;
    for (const pair of this.#pairs) for (const s of pair) s.pause();
  }

  thaw(): void {
    this.#frozen = false;
    for (const pair of this.#pairs) for (const s of pair) s.resume();
  }

  /** Cuts every connection through it now (as a Redis restart or a network reset would); new ones are let through. */
  drop(): void {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
  }

  async close(): Promise<void> {
    for (const [a, b] of this.#pairs) {
      a.destroy();
      b.destroy();
    }
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
