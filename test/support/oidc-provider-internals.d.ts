// The library's own session middleware (the proxy every provider route puts around
// ctx.oidc.session), imported by test/oidc/provider-patches.test.ts to test a patch against it.
declare module 'oidc-provider/lib/shared/session.js' {
  import type { KoaContextWithOIDC } from 'oidc-provider';
  export default function sessionHandler(ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void>;
}
