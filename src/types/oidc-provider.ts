/**
 * Curfew's client metadata as oidc-provider hands it back on `Client` (src/oidc/client-metadata.ts
 * registers these extra fields), and the library method @types/oidc-provider 9.12 omits. Declared
 * once here so no call site casts.
 */
declare module 'oidc-provider' {
  interface Client {
    /** The org the client belongs to. */
    readonly org?: string;
    /** May obtain `admin`-scoped client-credentials tokens for its org's admin API. */
    readonly adminApi?: boolean;
    /** First-party clients are consented implicitly. */
    readonly firstParty?: boolean;
    /** Back-Channel Logout 1.0: signs and POSTs a logout token for `sid` to the client. */
    backchannelLogout(sub: string, sid: string): Promise<void>;
  }
}

export {};
