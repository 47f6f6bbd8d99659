import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { DirectoryStore, ModelIndexes, ModelStore } from '../store/types.ts';
import { StoreUnavailableError } from '../errors.ts';
import { providerMetadata } from './client-metadata.ts';
import type { ClientRecord } from '../orgs/types.ts';
import { userInRequest } from './request-user.ts';

/**
 * A record's `jti` is its bearer value: the token or code itself, the session cookie. The key
 * already hides it (a keyed hash of the id), so the payload must not give it back: it is
 * dropped before storing and put back by `find(id)`, which is handed the id anyway. An
 * Interaction also copies the session cookie (`session.cookie`), which nothing reads: dropped.
 * `findByUid` (sessions only) returns no `jti`; the library only reads sessions found that way.
 *
 * Two members only repeat what the record's place already says, and are not stored (issue 14:
 * bytes per session; 64 bytes less per token in Redis): `kind` is the model's name (the library
 * takes the model's own when a record has none), and `expiresWithSession: true` is what every
 * code and token bound to a session carries in Curfew (provider.ts: `expiresWithSession` is
 * always true, SPEC §6) — put back by `find` wherever the record names its session.
 */
function storedForm(payload: AdapterPayload): AdapterPayload {
  const { jti: _jti, kind: _kind, ...stored } = payload;
  if (stored.expiresWithSession === true && typeof stored.sessionUid === 'string') delete stored.expiresWithSession;
  if (stored.session && typeof stored.session === 'object') {
    const { cookie: _cookie, ...session } = stored.session as Record<string, unknown>;
    stored.session = session as AdapterPayload['session'];
  }
  return stored;
}

/** The record as the library wrote it (but its `jti`, which `find` adds). */
function libraryForm(stored: AdapterPayload): AdapterPayload {
  return typeof stored.sessionUid === 'string' && stored.expiresWithSession === undefined ? { ...stored, expiresWithSession: true } : stored;
}

/** Models whose records carry `sessionUid` and must die with their RP session (SPEC §6). */
const SESSION_BOUND = new Set(['AuthorizationCode', 'AccessToken', 'RefreshToken']);

/**
 * The enforcement steps that hook the adapter (src/oidc/enforcement/index.ts, stages `load` and
 * `save`). Why the adapter: every endpoint that loads a token (token, userinfo, introspection,
 * revocation) and every code the library issues goes through it, so none can skip enforcement.
 */
export interface AdapterEnforcement {
  /** May this session-bound code or token still be used, by its session's deadlines now? */
  tokenLoaded(token: { sessionUid: string; clientId: string }): Promise<boolean>;
  /** An authorization code was stored (its RP session is recorded before the response leaves). */
  codeSaved(code: { sessionUid: string; clientId: string; grantId?: string; sid?: string }): void;
}

/**
 * Asked when a client named in a request is not in the directory (src/store/wipe-detection.ts):
 * a store that lost its state must not answer `invalid_client` for a client that exists.
 */
export type ExplainMissingClient = () => Promise<'missing' | 'restored' | 'unavailable'>;

/**
 * oidc-provider's storage, over Curfew's store. Identifiers (ids, uids, user codes, grant ids)
 * reach the store only as keyed hashes. Clients are read from the directory, so an admin's
 * change to a client takes effect on the next request.
 */
export function createAdapter(
  models: ModelStore,
  directory: DirectoryStore,
  hash: IdentifierHasher,
  enforcement: AdapterEnforcement,
  explainMissingClient: ExplainMissingClient = async () => 'missing',
  /** Stands in for a client that does not exist, where telling so would reveal something. */
  decoyClient: (id: string) => ClientRecord | undefined = () => undefined,
  /**
   * The request being served, if it is one whose next step reads the token's account (the
   * token and userinfo endpoints): its user is then read beside the session check.
   */
  requestReadingAccount: () => object | undefined = () => undefined,
): AdapterFactory {
  class ClientAdapter implements Adapter {
    async find(id: string): Promise<AdapterPayload | undefined> {
      let client = await directory.getClient(id);
      if (!client) {
        const why = await explainMissingClient();
        if (why === 'unavailable') throw new StoreUnavailableError();
        if (why === 'restored') client = await directory.getClient(id);
        else client = decoyClient(id);
      }
      return client ? (providerMetadata(client) as AdapterPayload) : undefined;
    }
    // Clients are managed through Curfew's directory, never through the provider.
    async upsert(): Promise<void> {
      throw new Error('clients are managed through the directory');
    }
    async findByUid(): Promise<undefined> {
      return undefined;
    }
    async findByUserCode(): Promise<undefined> {
      return undefined;
    }
    async consume(): Promise<void> {}
    async destroy(): Promise<void> {}
    async revokeByGrantId(): Promise<void> {}
  }

  class ModelAdapter implements Adapter {
    readonly name: string;
    constructor(name: string) {
      this.name = name;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      const indexes: ModelIndexes = {};
      if (typeof payload.uid === 'string') indexes.uid = hash(payload.uid);
      if (typeof payload.userCode === 'string') indexes.userCode = hash(payload.userCode);
      if (typeof payload.grantId === 'string') indexes.grantId = hash(payload.grantId);
      await models.upsert(this.name, hash(id), storedForm(payload), expiresIn, indexes);
      if (this.name === 'AuthorizationCode' && typeof payload.sessionUid === 'string' && typeof payload.clientId === 'string') {
        enforcement.codeSaved({
          sessionUid: payload.sessionUid,
          clientId: payload.clientId,
          ...(typeof payload.grantId === 'string' ? { grantId: payload.grantId } : {}),
          ...(typeof payload.sid === 'string' ? { sid: payload.sid } : {}),
        });
      }
    }
    async find(id: string): Promise<AdapterPayload | undefined> {
      const stored = (await models.find(this.name, hash(id))) as AdapterPayload | undefined;
      const payload = stored && { ...libraryForm(stored), jti: id };
      if (!payload || !SESSION_BOUND.has(this.name) || typeof payload.sessionUid !== 'string' || typeof payload.clientId !== 'string') {
        return payload;
      }
      // The library reads the token's account next (findAccount): read it now, beside the
      // session check, rather than one round trip after it.
      const request = requestReadingAccount();
      if (request && typeof payload.accountId === 'string') void userInRequest(request, payload.accountId, (user) => directory.getUser(user)).catch(() => {});
      if (await enforcement.tokenLoaded({ sessionUid: payload.sessionUid, clientId: payload.clientId })) return payload;
      // The grant's tokens go with the session (SPEC §6): none of them is usable any more.
      if (typeof payload.grantId === 'string') await models.revokeByGrantId(hash(payload.grantId));
      return undefined;
    }
    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const stored = (await models.findByUid(this.name, hash(uid))) as AdapterPayload | undefined;
      return stored && libraryForm(stored);
    }
    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const stored = (await models.findByUserCode(this.name, hash(userCode))) as AdapterPayload | undefined;
      return stored && libraryForm(stored);
    }
    async consume(id: string): Promise<void> {
      await models.consume(this.name, hash(id), Math.floor(Date.now() / 1000));
    }
    async destroy(id: string): Promise<void> {
      await models.destroy(this.name, hash(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      await models.revokeByGrantId(hash(grantId));
    }
  }

  // A factory (not a constructor): oidc-provider calls it once per model name.
  return (name: string): Adapter => (name === 'Client' ? new ClientAdapter() : new ModelAdapter(name));
}
