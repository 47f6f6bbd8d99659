/**
 * The soak's child processes and its load balancer: a Redis server with AOF in a temporary
 * directory, Curfew instances (`node src/main.ts`), and a loopback HTTP balancer in front of them
 * that gives both instances one issuer, as a real deployment would. Every child is registered so
 * that {@link killAll} ends it on any exit path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const children = new Set<ChildProcess>();

/** Ends every child still running; synchronous so it works from an 'exit' handler. */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function killAndWait(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

/** One PING over a raw socket: true when Redis answers +PONG within `timeoutMs`. */
export function redisAnswers(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;
  restarts = 0;

  constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#child = track(spawn('/usr/bin/redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '',
      '--logfile', join(this.dir, 'redis.log'),
    ], { stdio: 'ignore' }));
    for (let i = 0; i < 200; i++) {
      if (await redisAnswers(this.port)) return;
      if (this.#child.exitCode !== null) throw new Error(`redis-server exited with ${this.#child.exitCode}; see ${this.dir}/redis.log`);
      await sleep(50);
    }
    throw new Error(`redis-server on ${this.port} did not answer within 10 s`);
  }

  /** kill -9: no shutdown save; what survives is what the AOF already holds. */
  async kill9(): Promise<void> {
    await killAndWait(this.#child, 'SIGKILL');
  }

  async restart(): Promise<void> {
    this.restarts++;
    await this.start();
  }

  async stop(): Promise<void> {
    await killAndWait(this.#child, 'SIGTERM');
  }
}

export class CurfewInstance {
  readonly name: string;
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
  #child: ChildProcess | undefined;
  /** Exits the soak did not cause: a finding, and the instance is started again. */
  unexpectedExits = 0;
  #expectExit = false;

  constructor(name: string, port: number, env: Record<string, string>, logDir: string) {
    this.name = name;
    this.port = port;
    this.env = env;
    this.logFile = join(logDir, `${name}.log`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(onUnexpectedExit: () => void): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    const child = track(spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    this.#expectExit = false;
    this.#child = child;
    child.once('exit', () => {
      if (!this.#expectExit && this.#child === child) {
        this.unexpectedExits++;
        onUnexpectedExit();
      }
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited with ${child.exitCode} before ready; see ${this.logFile}`);
      if ((await this.ready(500)) === 200) return;
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within 60 s; see ${this.logFile}`);
  }

  /** /readyz's status, or 0 when nothing answered within `timeoutMs`. */
  async ready(timeoutMs = 1000): Promise<number> {
    try {
      const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  async kill9(): Promise<void> {
    this.#expectExit = true;
    await killAndWait(this.#child, 'SIGKILL');
  }

  async stop(): Promise<void> {
    this.#expectExit = true;
    await killAndWait(this.#child, 'SIGTERM');
  }
}

/**
 * Round-robin over the instances marked up. A request refused at connect (the instance is gone)
 * is tried on the next instance, as any balancer does; a request lost in flight answers 502 with
 * `x-soak-balancer: 1`, so the report can tell the balancer's 5xx from Curfew's.
 */
export class Balancer {
  readonly port: number;
  readonly backends: Array<{ port: number; up: boolean }>;
  #server: Server | undefined;
  #next = 0;

  constructor(port: number, backendPorts: number[]) {
    this.port = port;
    this.backends = backendPorts.map((p) => ({ port: p, up: true }));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setUp(port: number, up: boolean): void {
    for (const b of this.backends) if (b.port === port) b.up = up;
  }

  async start(): Promise<void> {
    this.#server = createHttpServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 1000;
    await new Promise<void>((r) => this.#server!.listen(this.port, '127.0.0.1', () => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const up = this.backends.filter((b) => b.up);
    const order = up.length ? up : this.backends;
    const start = this.#next++ % order.length;
    for (let i = 0; i < order.length; i++) {
      const backend = order[(start + i) % order.length]!;
      const outcome = await this.#forward(backend.port, req, body, res);
      if (outcome !== 'refused') return;
    }
    if (!res.headersSent) res.writeHead(502, { 'x-soak-balancer': '1' }).end('no instance answered');
  }

  #forward(port: number, req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<'done' | 'refused'> {
    return new Promise((resolve) => {
      const upstream = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, timeout: 30_000 }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', () => resolve('done'));
        answer.once('error', () => {
          res.destroy();
          resolve('done');
        });
      });
      upstream.once('timeout', () => upstream.destroy(new Error('timeout')));
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') return resolve('refused');
        if (!res.headersSent) res.writeHead(502, { 'x-soak-balancer': '1' }).end(`lost in flight: ${err.code ?? err.message}`);
        else res.destroy();
        resolve('done');
      });
      upstream.end(body);
    });
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
