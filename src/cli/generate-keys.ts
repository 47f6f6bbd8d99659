import { mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generateJwks } from '../oidc/keys.ts';

/**
 * Fresh key material for production, where Curfew refuses to generate keys into Redis itself.
 * `npm run keys -- DIR` writes one file per key (mode 0600) for Docker/Kubernetes secrets and
 * prints the `_FILE` variables naming them; `npm run keys` prints shell `export` lines instead.
 */
const secret = () => randomBytes(32).toString('base64url');
const keys: Record<string, string> = {
  CURFEW_IDENTIFIER_KEY: secret(),
  CURFEW_COOKIE_KEYS: secret(),
  CURFEW_TOTP_KEYS: `k1:${randomBytes(32).toString('base64url')}`,
  CURFEW_JWKS: JSON.stringify(generateJwks()),
};

const dir = process.argv[2];
if (dir) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [variable, value] of Object.entries(keys)) {
    const file = resolve(join(dir, variable.toLowerCase()));
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    process.stdout.write(`${variable}_FILE=${file}\n`);
  }
} else {
  // Single quotes: none of the values contains one.
  for (const [variable, value] of Object.entries(keys)) process.stdout.write(`export ${variable}='${value}'\n`);
}
