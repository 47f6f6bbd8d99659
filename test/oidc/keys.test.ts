import { createHash, randomBytes, type JsonWebKey } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { generateJwks, keyFingerprint, loadKeyMaterial, restoreKeyMaterial } from '../../src/oidc/keys.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Store } from '../../src/store/types.ts';

const ISSUER = 'http://127.0.0.1:1';
const generatedConfig = () => loadConfig({}, { issuer: ISSUER });
const cookieKey = () => randomBytes(32).toString('base64url');
const totpKey = () => `k1:${randomBytes(32).toString('base64url')}`;
/** Every key given by configuration: nothing is kept in the store. */
const configuredConfig = () =>
  loadConfig({}, {
    issuer: ISSUER,
    'secrets.jwks': generateJwks(),
    'secrets.cookieKeys': [cookieKey()],
    'secrets.identifierKey': cookieKey(),
    'secrets.totpKeys': [totpKey()],
  });

/** RFC 7638 §3: the required members in lexicographic order, no whitespace. */
function rfc7638(jwk: JsonWebKey): string {
  const members = jwk.kty === 'RSA' ? `{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}` : `{"crv":"${jwk.crv}","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  return createHash('sha256').update(members).digest('base64url');
}

describe('key material (src/oidc/keys.ts)', () => {
  let store: Store;
  beforeEach(() => {
    store = createMemoryStore();
  });
  afterEach(async () => {
    await store.close();
  });

  it('generates an RS256 then an ES256 private signing key, each with its RFC 7638 thumbprint as kid', () => {
    const jwks = generateJwks();
    expect(jwks.keys.map((k) => [k.kty, (k as { alg?: string }).alg, (k as { use?: string }).use])).toEqual([['RSA', 'RS256', 'sig'], ['EC', 'ES256', 'sig']]);
    for (const key of jwks.keys) {
      expect(key.d, 'private').toEqual(expect.any(String));
      expect((key as { kid?: string }).kid).toBe(rfc7638(key));
    }
    expect(generateJwks().keys[0]!.n).not.toBe(jwks.keys[0]!.n);
  });

  it('generates missing keys once and keeps them in the store, so a second instance gets the same ones', async () => {
    const config = generatedConfig();
    const first = await loadKeyMaterial(config, store.secrets);
    const second = await loadKeyMaterial(config, store.secrets);
    expect(second).toEqual(first);
    expect(first.cookieKeys).toHaveLength(1);
    expect(first.identifierKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.totpKeys[0]).toMatch(/^g1:[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(await store.secrets.getOrCreate('jwks', () => 'unused'))).toEqual(first.jwks);
  });

  it('takes configured keys as given and stores none of them', async () => {
    const config = configuredConfig();
    const keys = await loadKeyMaterial(config, store.secrets);
    expect(keys).toEqual({ jwks: config.secrets.jwks, cookieKeys: config.secrets.cookieKeys, identifierKey: config.secrets.identifierKey, totpKeys: config.secrets.totpKeys });
    for (const name of ['jwks', 'cookie-key', 'identifier-key', 'totp-key']) {
      expect(await store.secrets.getOrCreate(name, () => 'absent'), name).toBe('absent');
    }
  });

  describe('keyFingerprint', () => {
    it('agrees for instances with the same stored keys and differs when any stored key differs', async () => {
      const config = generatedConfig();
      const keys = await loadKeyMaterial(config, store.secrets);
      expect(keyFingerprint(config, await loadKeyMaterial(config, store.secrets))).toBe(keyFingerprint(config, keys));
      expect(keyFingerprint(config, keys)).toMatch(/^keys:[A-Za-z0-9_-]{22}$/);
      expect(keyFingerprint(config, { ...keys, cookieKeys: [cookieKey()] })).not.toBe(keyFingerprint(config, keys));
      expect(keyFingerprint(config, { ...keys, identifierKey: cookieKey() })).not.toBe(keyFingerprint(config, keys));
    });

    it('gives nothing of the keys away', async () => {
      const config = generatedConfig();
      const keys = await loadKeyMaterial(config, store.secrets);
      const fingerprint = keyFingerprint(config, keys);
      for (const secret of [keys.identifierKey, keys.cookieKeys[0]!, keys.totpKeys[0]!]) expect(fingerprint).not.toContain(secret.slice(0, 8));
    });

    it('is one constant when configuration gives every key', async () => {
      const a = configuredConfig();
      const b = configuredConfig();
      expect(keyFingerprint(a, await loadKeyMaterial(a, store.secrets))).toBe(keyFingerprint(b, await loadKeyMaterial(b, store.secrets)));
    });
  });

  describe('restoreKeyMaterial', () => {
    it('puts back the keys this instance holds after the store lost them, so a reload gets the same keys', async () => {
      const config = generatedConfig();
      const keys = await loadKeyMaterial(config, store.secrets);
      const wiped = createMemoryStore();
      try {
        expect(await restoreKeyMaterial(config, wiped.secrets, keys)).toEqual([]);
        expect(await loadKeyMaterial(config, wiped.secrets)).toEqual(keys);
      } finally {
        await wiped.close();
      }
    });

    it('never overwrites: names the keys another instance stored first', async () => {
      const config = generatedConfig();
      const mine = await loadKeyMaterial(config, store.secrets);
      const wiped = createMemoryStore();
      try {
        const theirs = await loadKeyMaterial(config, wiped.secrets);
        expect((await restoreKeyMaterial(config, wiped.secrets, mine)).sort()).toEqual(['cookie-key', 'identifier-key', 'jwks', 'totp-key']);
        expect(await loadKeyMaterial(config, wiped.secrets)).toEqual(theirs);
      } finally {
        await wiped.close();
      }
    });

    it('stores nothing that configuration gives', async () => {
      const config = configuredConfig();
      const keys = await loadKeyMaterial(config, store.secrets);
      expect(await restoreKeyMaterial(config, store.secrets, keys)).toEqual([]);
      expect(await store.secrets.getOrCreate('jwks', () => 'absent')).toBe('absent');
    });
  });
});
