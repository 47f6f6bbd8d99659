import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ROOT } from '../support/process.ts';

const VARIABLES = ['CURFEW_IDENTIFIER_KEY', 'CURFEW_COOKIE_KEYS', 'CURFEW_TOTP_KEYS', 'CURFEW_JWKS'];
const made: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'curfew-keys-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const run = (args: string[] = []) => execFileSync(process.execPath, ['src/cli/generate-keys.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

describe('npm run keys', () => {
  it('writes one 0600 file per key and prints the _FILE variables, which production accepts', () => {
    const dir = join(tempDir(), 'secrets');
    const printed = run([dir]);
    const env: Record<string, string> = {};
    for (const line of printed.trim().split('\n')) {
      const [name, value] = line.split('=') as [string, string];
      env[name] = value;
    }
    expect(Object.keys(env).sort()).toEqual(VARIABLES.map((v) => `${v}_FILE`).sort());
    for (const file of Object.values(env)) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const config = loadConfig({ NODE_ENV: 'production', REDIS_URL: 'redis://10.0.0.5:6379', ...env });
    expect(config.secrets.identifierKey).toBe(readFileSync(env.CURFEW_IDENTIFIER_KEY_FILE!, 'utf8').trim());
    expect(config.secrets.jwks?.keys.map((k) => k.alg).sort()).toEqual(['ES256', 'RS256']);
  });

  it('refuses to overwrite keys already written', () => {
    const dir = tempDir();
    run([dir]);
    expect(() => execFileSync(process.execPath, ['src/cli/generate-keys.ts', dir], { cwd: ROOT, stdio: 'pipe' })).toThrow(/EEXIST/);
  });

  it('prints fresh export lines without a directory', () => {
    const a = run();
    const b = run();
    for (const variable of VARIABLES) expect(a).toMatch(new RegExp(`^export ${variable}='[^']+'$`, 'm'));
    expect(a).not.toBe(b);
  });
});
