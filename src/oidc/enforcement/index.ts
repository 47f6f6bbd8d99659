import type { Context, Next } from 'koa';
import Provider, { type interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { MfaService } from '../../mfa/service.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { DirectoryStore } from '../../store/types.ts';
import { awaitActivityCount } from './await-activity-count.ts';
import { bindTokenToRpSession, type SessionBoundToken } from './bind-token-to-rp-session.ts';
import { capAccessTokenTtl } from './cap-access-token-ttl.ts';
import { judgeSsoSession } from './judge-sso-session.ts';
import { noteCodeIssued, type SavedCode } from './note-code-issued.ts';
import { recordLogout } from './record-logout.ts';
import { recordRpSession } from './record-rp-session.ts';
import { recordSignIn } from './record-sign-in.ts';
import { refreshActivity } from './refresh-activity.ts';
import { requireAccount } from './require-account.ts';
import { requireOrgMembership } from './require-org-membership.ts';
import { requireSecondFactor } from './require-second-factor.ts';

/**
 * Where a step runs. The library decides when the first four happen; Curfew decides only the last:
 * - `prompt`: a check of the `login` prompt, while the library resolves an authorization request;
 * - `load`:   the adapter found a session-bound code or token (however the library came to load it);
 * - `save`:   the adapter saved an authorization code;
 * - `ttl`:    the library asks an access token's lifetime;
 * - `after`:  the provider answered; the answer has not left yet.
 */
type Stage = 'prompt' | 'load' | 'save' | 'ttl' | 'after';
type Check = InstanceType<typeof interactionPolicy.Check>;
type StepOf = {
  prompt: Check;
  load: (ctx: Context | undefined, token: SessionBoundToken) => Promise<boolean>;
  save: (ctx: Context | undefined, code: SavedCode) => void;
  ttl: (ctx: Context | undefined) => number;
  after: (ctx: KoaContextWithOIDC) => Promise<void>;
};

const A = 'authorization';
const R = 'resume';
const TC = 'token:authorization_code';
const TR = 'token:refresh_token';
const UI = 'userinfo';
const IN = 'introspection';
const RV = 'revocation';
const ES = 'end_session_confirm';
export type Endpoint = typeof A | typeof R | typeof TC | typeof TR | typeof UI | typeof IN | typeof RV | typeof ES;

export interface EnforcementDeps {
  sessions: SessionService;
  directory: DirectoryStore;
  mfa: MfaService;
  accessTokenSeconds: number;
}

type Row<S extends Stage> = { name: string; step: StepOf[S]; endpoints: Endpoint[] };
export type EnforcementTable = { [S in Stage]: Array<Row<S>> };

/**
 * Curfew's session enforcement (SPEC §5, §6, §9): which endpoint runs which step, in order. Each
 * step is one file of this folder. Only `after` rows are dispatched by their columns; the others
 * run wherever the library reaches them, and their columns say where that is — a token load is
 * judged whichever endpoint (or Curfew route) loads it, so no endpoint can skip it.
 * Curfew's own sign-in forms judge sessions too, as part of their flow: src/oidc/interactions/
 * judge-user-sessions.ts (every session of the user, before TOTP is decided) and
 * require-live-session.ts (a step-up that skips the password needs its live SSO session).
 */
export function enforcementTable(deps: EnforcementDeps): EnforcementTable {
  const rows: EnforcementTable = { prompt: [], load: [], save: [], ttl: [], after: [] };
  const use = <S extends Stage>(stage: S, name: string, step: StepOf[S], ...endpoints: Endpoint[]) => {
    const row: Row<S> = { name, step, endpoints };
    rows[stage].push(row);
  };
  // A authorization, R resume, TC/TR token (code/refresh grant), UI userinfo, IN introspection,
  // RV revocation, ES end_session confirm.
  //   stage    file in this folder          step                                        endpoints
  use('prompt', 'require-account',          requireAccount(),                           A, R);
  use('prompt', 'judge-sso-session',        judgeSsoSession(deps),                      A, R);
  use('prompt', 'require-second-factor',    requireSecondFactor(deps),                  A, R);
  use('prompt', 'require-org-membership',   requireOrgMembership(),                     A, R);
  use('load',   'bind-token-to-rp-session', bindTokenToRpSession(deps),                       TC, TR, UI, IN, RV);
  use('save',   'note-code-issued',         noteCodeIssued(),                           A, R);
  use('ttl',    'cap-access-token-ttl',     capAccessTokenTtl(deps.accessTokenSeconds),       TC, TR);
  use('after',  'await-activity-count',     awaitActivityCount(),                       A, R);
  use('after',  'record-sign-in',           recordSignIn(deps),                         A, R);
  use('after',  'record-rp-session',        recordRpSession(deps),                      A, R);
  use('after',  'refresh-activity',         refreshActivity(deps),                                TR);
  use('after',  'record-logout',            recordLogout(deps),                                                     ES);
  return rows;
}

/** The endpoint an answered request was, in the table's terms (token requests by grant type). */
export function endpointOf(oidc: KoaContextWithOIDC['oidc']): string | undefined {
  if (!oidc.route) return undefined;
  return oidc.route === 'token' ? `token:${String(oidc.params?.grant_type)}` : oidc.route;
}

/** The provider's routes give the request its `oidc` context; Curfew's own routes do not. */
function servedByProvider(ctx: Context): ctx is KoaContextWithOIDC {
  return 'oidc' in ctx && ctx.oidc !== undefined;
}

export interface Enforcement {
  /** Added to the `login` prompt, in order. */
  loginChecks: Check[];
  /** For the adapter: may this session-bound code or token still be used? */
  tokenLoaded(token: SessionBoundToken): Promise<boolean>;
  /** For the adapter: an authorization code was saved. */
  codeSaved(code: SavedCode): void;
  /** `ttl.AccessToken`. */
  accessTokenTtl(ctx: Context | undefined): number;
  /** Runs around the provider's routes; acts once the provider has answered. */
  afterResponse(ctx: Context, next: Next): Promise<void>;
}

export function createEnforcement(deps: EnforcementDeps): Enforcement {
  const table = enforcementTable(deps);
  const loads = table.load.map((row) => row.step);
  const saves = table.save.map((row) => row.step);
  const ttls = table.ttl.map((row) => row.step);
  // The adapter gets no request from the library; Provider.ctx is the library's public handle on it.
  const current = (): Context | undefined => Provider.ctx;
  return {
    loginChecks: table.prompt.map((row) => row.step),
    async tokenLoaded(token) {
      const ctx = current();
      for (const load of loads) if (!(await load(ctx, token))) return false;
      return true;
    },
    codeSaved(code) {
      const ctx = current();
      for (const save of saves) save(ctx, code);
    },
    accessTokenTtl: (ctx) => Math.min(...ttls.map((ttl) => ttl(ctx))),
    async afterResponse(ctx, next) {
      await next();
      if (!servedByProvider(ctx)) return;
      const endpoint = endpointOf(ctx.oidc);
      for (const row of table.after) if (row.endpoints.some((e) => e === endpoint)) await row.step(ctx);
    },
  };
}
