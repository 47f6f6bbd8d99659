import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A secret encrypted at rest: AES-256-GCM under the key named `kid`. */
export interface SealedSecret {
  kid: string;
  iv: string;
  ct: string;
  tag: string;
}

export interface SecretBox {
  seal(plaintext: string, context: string): SealedSecret;
  open(sealed: SealedSecret, context: string): string;
}

/**
 * Keys newest first: new secrets are sealed with the first; any listed key opens, so keys
 * rotate by prepending a new one and dropping an old one once nothing uses it. `context`
 * (the user id) is bound as additional data, so a sealed secret copied to another user fails.
 */
export function createSecretBox(keys: ReadonlyArray<{ kid: string; key: Buffer }>): SecretBox {
  if (!keys.length) throw new Error('createSecretBox: at least one key is required');
  for (const { kid, key } of keys) if (key.length !== 32) throw new Error(`createSecretBox: key ${kid} must be 32 bytes`);
  const byKid = new Map(keys.map((k) => [k.kid, k.key]));
  const current = keys[0]!;
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(context));
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { kid: current.kid, iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
    },
    open(sealed, context) {
      const key = byKid.get(sealed.kid);
      if (!key) throw new Error(`no key ${sealed.kid} to open a sealed secret`);
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** `kid:base64` entries (CURFEW_TOTP_KEYS) → keys. */
export function parseKeyring(entries: readonly string[]): Array<{ kid: string; key: Buffer }> {
  return entries.map((entry) => {
    const [kid, b64] = entry.split(':') as [string, string];
    return { kid, key: Buffer.from(b64, b64.includes('-') || b64.includes('_') ? 'base64url' : 'base64') };
  });
}
