import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

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

export interface Started {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * The environment a child process starts from: a clean one, except that a machine whose date
 * is shifted (libfaketime, as the suite is run to prove no test depends on today's date) runs
 * its children at the same date, as a real machine would.
 */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && (name === 'LD_PRELOAD' || name.startsWith('FAKETIME'))) env[name] = value;
  }
  return env;
}

/**
 * This process's environment without libfaketime, for the real services a test starts beside
 * Curfew (a Redis of its own, Chromium): the suite may run at a shifted date, and those keep the
 * real clock, as the machine's Redis does (Chromium's renderer also hangs under libfaketime).
 */
export function withoutFaketime(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')) env[name] = value;
  }
  return env;
}

/**
 * Runs `node src/main.ts` — what `npm start` runs — with the given environment, and waits
 * for `ready` to appear on its output.
 */
export async function startMain(env: Record<string, string>, ready: RegExp, timeoutMs = 20_000, nodeArgs: string[] = []): Promise<Started> {
  return startCommand(process.execPath, [...nodeArgs, 'src/main.ts'], env, ready, timeoutMs);
}

/** Runs a Node script of the repository (a test's own child instance), like `startMain`. */
export async function startScript(script: string, env: Record<string, string>, ready: RegExp, timeoutMs = 20_000): Promise<Started> {
  return startCommand(process.execPath, [script], env, ready, timeoutMs);
}

/** Runs `npm start` itself, as an operator or a process manager would. */
export async function startNpm(env: Record<string, string>, ready: RegExp, timeoutMs = 20_000): Promise<Started> {
  return startCommand('npm', ['start', '--silent'], env, ready, timeoutMs);
}

async function startCommand(command: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs: number): Promise<Started> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!ready.test(out)) reject(new Error(`exited with ${code} before ready:\n${out}`));
    });
  });
  return { child, output: () => out, stop };
}

/** Runs `node src/main.ts` to completion (for start-up failures). */
export async function runMain(env: Record<string, string>, timeoutMs = 20_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  return { code, output: out };
}
