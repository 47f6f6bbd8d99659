import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../support/process.ts';
import { until } from '../support/wait.ts';

const run = promisify(execFile);

/**
 * The image's install path, without a Docker engine: the Dockerfile's `npm ci --omit=dev` in a
 * tree holding only what the image copies, then a start from that tree. Fails when src/ imports
 * a devDependency or the image leaves out a file Curfew reads.
 */
describe('the production install (what the Dockerfile builds)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'curfew-image-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs without devDependencies and serves from that tree alone', async () => {
    for (const path of ['package.json', 'package-lock.json', 'src', 'views', 'config']) cpSync(join(ROOT, path), join(dir, path), { recursive: true });
    await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], { cwd: dir, env: { ...process.env, NODE_ENV: 'production' } });

    const port = await freePort();
    // Node 24 is the image's base; here it is the one the suite runs on.
    const child = execFile(process.execPath, ['src/main.ts'], { cwd: dir, env: { PATH: process.env.PATH ?? '', PORT: String(port), ISSUER: `http://127.0.0.1:${port}` } });
    let output = '';
    child.stdout?.on('data', (d) => (output += String(d)));
    child.stderr?.on('data', (d) => (output += String(d)));
    try {
      await until(`the server to start:\n${output}`, async () => output.includes('Curfew is serving'), 30_000);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const discovery = (await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(discovery.issuer).toBe(`http://127.0.0.1:${port}`);
    } finally {
      child.kill('SIGTERM');
    }
  }, 180_000);
});
