import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { describe, expect, it, vi } from 'vitest';
import { autoConsentFirstParty, readGrantAhead } from '../../src/oidc/first-party-consent.ts';

/** A bare provider (the library's memory adapter) with a first-party and a third-party client. */
function bareProvider() {
  const client = (id: string, firstParty: boolean) => ({ client_id: id, client_secret: 'a secret of the test client 0123', redirect_uris: ['http://127.0.0.1:9/cb'], firstParty });
  return new Provider('http://127.0.0.1:1', {
    clients: [client('first', true), client('third', false)],
    cookies: { keys: ['first-party consent test key'] },
    extraClientMetadata: { properties: ['firstParty'] },
    ttl: { Grant: 600 },
    features: { devInteractions: { enabled: false } },
  });
}

interface Asked {
  client: string;
  /** The grant the browser session holds for the client. */
  sessionGrant?: string;
  /** The grant the consent interaction just finished with. */
  consentGrant?: string;
  scopes?: string[];
  claims?: string[];
  /** The library's route (readGrantAhead reads ahead only for authorization requests). */
  route?: string;
}

/** The authorization request as loadExistingGrant sees it: what it reads of ctx.oidc. */
async function request(provider: Provider, asked: Asked): Promise<KoaContextWithOIDC> {
  const oidc = {
    provider,
    route: asked.route,
    client: await provider.Client.find(asked.client),
    session: { accountId: 'alice', grantIdFor: (id: string) => (id === asked.client ? asked.sessionGrant : undefined) },
    result: asked.consentGrant ? { consent: { grantId: asked.consentGrant } } : undefined,
    requestParamScopes: asked.scopes ? new Set(asked.scopes) : undefined,
    requestParamClaims: new Set(asked.claims ?? []),
  };
  // The function reads only these members of the library's request context.
  return { oidc } as unknown as KoaContextWithOIDC;
}

async function savedGrant(provider: Provider, client: string, scope: string) {
  const grant = new provider.Grant({ clientId: client, accountId: 'alice' });
  grant.addOIDCScope(scope);
  return grant.save();
}

describe('first-party clients are consented by their org (src/oidc/first-party-consent.ts)', () => {
  it('grants a first-party client what it asked for, without asking, and saves the grant', async () => {
    const provider = bareProvider();
    const grant = await autoConsentFirstParty(await request(provider, { client: 'first', scopes: ['openid', 'profile'], claims: ['preferred_username'] }));
    expect(grant).toBeDefined();
    const stored = await provider.Grant.find(grant!.jti);
    expect(stored).toMatchObject({ clientId: 'first', accountId: 'alice' });
    expect(stored!.getOIDCScope().split(' ').sort()).toEqual(['openid', 'profile']);
    expect(stored!.getOIDCClaims()).toEqual(['preferred_username']);
  });

  it('grants only openid when no scope was asked', async () => {
    const provider = bareProvider();
    const grant = await autoConsentFirstParty(await request(provider, { client: 'first' }));
    expect(grant!.getOIDCScope()).toBe('openid');
  });

  it('uses the grant the session already holds, and replaces one that is gone', async () => {
    const provider = bareProvider();
    const held = await savedGrant(provider, 'first', 'openid');
    expect((await autoConsentFirstParty(await request(provider, { client: 'first', sessionGrant: held, scopes: ['openid', 'profile'] })))?.jti).toBe(held);

    const fresh = await autoConsentFirstParty(await request(provider, { client: 'first', sessionGrant: 'a-grant-that-expired', scopes: ['openid'] }));
    expect(fresh?.jti).toBeDefined();
    expect(fresh?.jti).not.toBe('a-grant-that-expired');
  });

  it('prefers the grant a consent just produced over the session\'s', async () => {
    const provider = bareProvider();
    const older = await savedGrant(provider, 'third', 'openid');
    const consented = await savedGrant(provider, 'third', 'openid profile');
    const grant = await autoConsentFirstParty(await request(provider, { client: 'third', sessionGrant: older, consentGrant: consented }));
    expect(grant?.jti).toBe(consented);
  });

  it('never consents for a third-party client: without a grant the user is asked', async () => {
    const provider = bareProvider();
    expect(await autoConsentFirstParty(await request(provider, { client: 'third', scopes: ['openid', 'profile'] }))).toBeUndefined();
    expect(await autoConsentFirstParty(await request(provider, { client: 'third', sessionGrant: 'a-grant-that-expired' }))).toBeUndefined();
    const given = await savedGrant(provider, 'third', 'openid profile');
    expect((await autoConsentFirstParty(await request(provider, { client: 'third', sessionGrant: given })))?.jti).toBe(given);
  });
});

describe('the grant read beside the account (readGrantAhead)', () => {
  /** The library's Grant reads, by id (each still reads the store). */
  function counting(provider: Provider) {
    const spy = vi.spyOn(provider.Grant, 'find');
    return { get ids() { return spy.mock.calls.map((call) => call[0]); } };
  }

  it('an authorization request reads its grant once: ahead, and autoConsentFirstParty takes that read', async () => {
    const provider = bareProvider();
    const held = await savedGrant(provider, 'first', 'openid');
    const reads = counting(provider);
    const ctx = await request(provider, { client: 'first', sessionGrant: held, route: 'authorization' });
    readGrantAhead(ctx);
    readGrantAhead(ctx);
    expect(reads.ids).toEqual([held]);
    expect((await autoConsentFirstParty(ctx))?.jti).toBe(held);
    expect(reads.ids).toEqual([held]);
    // Taken once: a later load in the request reads the store again.
    await autoConsentFirstParty(ctx);
    expect(reads.ids).toEqual([held, held]);
  });

  it('reads nothing ahead outside authorization requests, nor without a grant to continue', async () => {
    const provider = bareProvider();
    const held = await savedGrant(provider, 'first', 'openid');
    const reads = counting(provider);
    readGrantAhead(await request(provider, { client: 'first', sessionGrant: held, route: 'token' }));
    readGrantAhead(await request(provider, { client: 'first', route: 'authorization' }));
    readGrantAhead(undefined);
    expect(reads.ids).toEqual([]);
  });

  it('the grant a consent just produced is the one read ahead, not the session\'s', async () => {
    const provider = bareProvider();
    const older = await savedGrant(provider, 'third', 'openid');
    const consented = await savedGrant(provider, 'third', 'openid profile');
    const reads = counting(provider);
    const ctx = await request(provider, { client: 'third', sessionGrant: older, consentGrant: consented, route: 'resume' });
    readGrantAhead(ctx);
    expect((await autoConsentFirstParty(ctx))?.jti).toBe(consented);
    expect(reads.ids).toEqual([consented]);
  });
});
