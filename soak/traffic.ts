/**
 * The soak's users: virtual browsers that sign in to two or three RPs through the password form,
 * refresh (chaining each rotated refresh token), call status and activity, log out, or go idle
 * and let their sessions expire. The bookkeeping here is what the report judges Curfew by: every
 * RP session (sid) the soak obtained is owed one logout token, and its deadline is the one
 * Curfew last announced for it (status/activity `expiresAt`) or the moment its logout was asked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { UserAgent } from '../test/support/user-agent.ts';

export const CALLBACK = 'http://127.0.0.1:9/callback';
export const LOGGED_OUT = 'http://127.0.0.1:9/logged-out';

export interface Endpoints {
  issuer: string;
  authorization: string;
  token: string;
  endSession: string;
}

export interface RpSession {
  client: string;
  sid: string;
  idToken: string;
  refreshToken: string | undefined;
  /** A refresh whose answer was lost or failed server-side may have rotated the token: its later invalid_grant proves nothing. */
  refreshUncertain: boolean;
  signedInAt: number;
  /** The deadline Curfew last announced (ms), from an answer sent after the last activity the soak reported. */
  deadline: number | undefined;
  activitySeq: number;
  lastActivitySentAt: number;
  inflight: number;
  logoutAt: number | undefined;
  /** A logout whose answer was lost: it happened if a later status answers inactive. */
  logoutTriedAt: number | undefined;
  probe: 'pending' | 'done' | 'gave-up';
  probeTries: number;
}

export interface VirtualUser {
  username: string;
  ua: UserAgent;
  rps: RpSession[];
  state: 'signing-in' | 'active' | 'idle' | 'ended';
  activeUntil: number;
  logoutAtEnd: boolean;
  cohort: number | undefined;
  nextAt: number;
  busy: boolean;
}

export interface FiveXX {
  /** Sent at; answered at. A request in flight when a fault began belongs to that fault. */
  at: number;
  answeredAt: number;
  kind: string;
  status: number;
  balancer: boolean;
  retryAfter: boolean;
  body: string;
}

export interface Answer {
  status: number;
  balancer: boolean;
  retryAfter: boolean;
  body: string;
  json: Record<string, unknown> | undefined;
}

export class Stats {
  readonly outcomes = new Map<string, number>();
  readonly fiveXX: FiveXX[] = [];
  /** Curfew said a session is dead (invalid_grant, active:false) while it had announced a later deadline. */
  readonly falseDeaths: Array<{ at: number; kind: string; sid: string; deadline: number; detail: string }> = [];
  /** A session answered as alive (status active, refresh granted) after its deadline or logout: must be none. */
  readonly alivePastDeadline: Array<{ at: number; kind: string; sid: string; end: number }> = [];
  requests = 0;

  count(kind: string, outcome: string): void {
    const key = `${kind} ${outcome}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
  }

  record(kind: string, answer: Answer, at: number): void {
    this.requests++;
    const error = typeof answer.json?.error === 'string' ? ` ${answer.json.error}` : '';
    this.count(kind, answer.status === 0 ? 'no answer' : `${answer.status}${error}${answer.balancer ? ' (balancer)' : ''}`);
    if (answer.status >= 500) this.fiveXX.push({ at, answeredAt: Date.now(), kind, status: answer.status, balancer: answer.balancer, retryAfter: answer.retryAfter, body: answer.body.slice(0, 200) });
  }
}

const b64url = (b: Buffer) => b.toString('base64url');

function decodePayload(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

export class Traffic {
  readonly users: VirtualUser[] = [];
  readonly sessions = new Map<string, RpSession>();
  readonly stats = new Stats();
  readonly endpoints: Endpoints;
  readonly secrets: Record<string, string>;
  readonly passwords: Map<string, string>;
  readonly random: () => number;
  #inflight = 0;
  #queue: Array<() => void> = [];
  readonly maxInflight: number;

  constructor(endpoints: Endpoints, secrets: Record<string, string>, passwords: Map<string, string>, random: () => number, maxInflight = 16) {
    this.endpoints = endpoints;
    this.secrets = secrets;
    this.passwords = passwords;
    this.random = random;
    this.maxInflight = maxInflight;
  }

  async #slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#inflight >= this.maxInflight) await new Promise<void>((r) => this.#queue.push(r));
    this.#inflight++;
    try {
      return await fn();
    } finally {
      this.#inflight--;
      this.#queue.shift()?.();
    }
  }

  #basic(client: string): string {
    return `Basic ${Buffer.from(`${encodeURIComponent(client)}:${encodeURIComponent(this.secrets[client]!)}`).toString('base64')}`;
  }

  async call(kind: string, url: string, init: { method?: string; form?: Record<string, string>; auth?: string } = {}): Promise<Answer> {
    return this.#slot(async () => {
      const at = Date.now();
      const headers: Record<string, string> = { accept: 'application/json' };
      if (init.auth) headers.authorization = init.auth;
      let body: string | undefined;
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(init.form).toString();
      }
      let answer: Answer;
      try {
        const res = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, signal: AbortSignal.timeout(15_000) });
        const text = await res.text();
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        answer = { status: res.status, balancer: res.headers.get('x-soak-balancer') === '1', retryAfter: res.headers.has('retry-after'), body: text, json };
      } catch (err) {
        answer = { status: 0, balancer: false, retryAfter: false, body: String(err), json: undefined };
      }
      this.stats.record(kind, answer, at);
      return answer;
    });
  }

  /** A browser page through the balancer; its final status is recorded like any request. */
  async page(kind: string, fn: () => Promise<{ status: number; headers: Headers; html: string; leftTo?: string }>): Promise<{ status: number; html: string; leftTo?: string } | undefined> {
    return this.#slot(async () => {
      const at = Date.now();
      try {
        const page = await fn();
        const balancer = page.headers.get('x-soak-balancer') === '1';
        this.stats.record(kind, { status: page.status, balancer, retryAfter: page.headers.has('retry-after'), body: page.html, json: undefined }, at);
        return page;
      } catch (err) {
        this.stats.record(kind, { status: 0, balancer: false, retryAfter: false, body: String(err), json: undefined }, at);
        return undefined;
      }
    });
  }

  newUser(username: string, activeForMs: number, logoutAtEnd: boolean, cohort?: number): VirtualUser {
    const user: VirtualUser = {
      username, ua: new UserAgent(this.endpoints.issuer), rps: [], state: 'signing-in',
      activeUntil: Date.now() + activeForMs, logoutAtEnd, cohort, nextAt: 0, busy: true,
    };
    this.users.push(user);
    return user;
  }

  /** The code flow with PKCE, as an RP and a person at a browser do it. */
  async signInRp(user: VirtualUser, client: string): Promise<RpSession | undefined> {
    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(16));
    const nonce = b64url(randomBytes(16));
    const auth = new URL(this.endpoints.authorization);
    auth.search = new URLSearchParams({
      client_id: client, response_type: 'code', scope: 'openid', redirect_uri: CALLBACK, state, nonce,
      code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
    }).toString();
    let page = await this.page('authorize', () => user.ua.navigate(auth.href));
    if (page && !page.leftTo && /\/login"/.test(page.html)) {
      const login = page;
      page = await this.page('login', () => user.ua.submit({ url: auth.href, status: login.status, html: login.html, headers: new Headers() }, '/login', { username: user.username, password: this.passwords.get(user.username)! }));
    }
    if (page && !page.leftTo && /\/confirm"/.test(page.html)) {
      const confirm = page;
      page = await this.page('consent', () => user.ua.submit({ url: auth.href, status: confirm.status, html: confirm.html, headers: new Headers() }, '/confirm'));
    }
    if (!page?.leftTo) {
      this.stats.count('sign-in', 'failed');
      return undefined;
    }
    const callback = new URL(page.leftTo);
    const code = callback.searchParams.get('code');
    if (!code || callback.searchParams.get('state') !== state) {
      this.stats.count('sign-in', `failed ${callback.searchParams.get('error') ?? 'no code'}`);
      return undefined;
    }
    const answer = await this.call('token (code)', this.endpoints.token, {
      form: { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier }, auth: this.#basic(client),
    });
    const idToken = answer.json?.id_token;
    if (answer.status !== 200 || typeof idToken !== 'string') {
      this.stats.count('sign-in', 'failed at token');
      return undefined;
    }
    const claims = decodePayload(idToken);
    if (claims.nonce !== nonce || typeof claims.sid !== 'string') throw new Error(`ID token without the nonce or a sid: ${JSON.stringify(claims)}`);
    const rp: RpSession = {
      client, sid: claims.sid, idToken, refreshToken: typeof answer.json?.refresh_token === 'string' ? answer.json.refresh_token : undefined,
      refreshUncertain: false, signedInAt: Date.now(), deadline: undefined, activitySeq: 0, lastActivitySentAt: Date.now(),
      inflight: 0, logoutAt: undefined, logoutTriedAt: undefined, probe: 'pending', probeTries: 0,
    };
    this.sessions.set(`${client} ${rp.sid}`, rp);
    user.rps.push(rp);
    this.stats.count('sign-in', 'ok');
    return rp;
  }

  #falseDeath(rp: RpSession, kind: string, detail: string): void {
    // Judged only while the soak knows better: Curfew itself announced a deadline more than 1 s away.
    if (rp.logoutAt === undefined && rp.deadline !== undefined && rp.deadline > Date.now() + 1000) {
      this.stats.falseDeaths.push({ at: Date.now(), kind, sid: rp.sid, deadline: rp.deadline, detail });
    }
  }

  /** GET /session/status (passive); learns the announced deadline when no activity was sent since. */
  async status(rp: RpSession, kind = 'status'): Promise<Answer> {
    const seq = rp.activitySeq;
    rp.inflight++;
    const answer = await this.call(kind, `${this.endpoints.issuer}/session/status?sid=${encodeURIComponent(rp.sid)}`, { auth: this.#basic(rp.client) });
    rp.inflight--;
    if (answer.status === 200 && answer.json) {
      if (answer.json.active === true && typeof answer.json.expiresAt === 'string' && seq === rp.activitySeq) rp.deadline = Date.parse(answer.json.expiresAt);
      if (answer.json.active === false && rp.logoutTriedAt !== undefined && rp.logoutAt === undefined) rp.logoutAt = rp.logoutTriedAt;
      if (answer.json.active === false && kind === 'status') this.#falseDeath(rp, kind, 'active: false');
    }
    return answer;
  }

  /** POST /session/activity: the RP reports its user's input. */
  async activity(rp: RpSession): Promise<Answer> {
    const seq = ++rp.activitySeq;
    rp.lastActivitySentAt = Date.now();
    rp.inflight++;
    const answer = await this.call('activity', `${this.endpoints.issuer}/session/activity`, { form: { sid: rp.sid }, auth: this.#basic(rp.client) });
    rp.inflight--;
    if (answer.status === 200 && answer.json) {
      if (answer.json.active === true && typeof answer.json.expiresAt === 'string' && seq === rp.activitySeq) rp.deadline = Date.parse(answer.json.expiresAt);
      if (answer.json.active === false) this.#falseDeath(rp, 'activity', 'active: false');
    }
    return answer;
  }

  /** A refresh grant with rotation: the next refresh uses the token this one returned. */
  async refresh(rp: RpSession, kind = 'refresh'): Promise<Answer | undefined> {
    if (!rp.refreshToken || rp.refreshUncertain) return undefined;
    rp.inflight++;
    const answer = await this.call(kind, this.endpoints.token, { form: { grant_type: 'refresh_token', refresh_token: rp.refreshToken }, auth: this.#basic(rp.client) });
    rp.inflight--;
    if (answer.status === 200 && typeof answer.json?.refresh_token === 'string') rp.refreshToken = answer.json.refresh_token;
    else if (answer.status === 0 || answer.status >= 500) rp.refreshUncertain = true;
    else if (answer.json?.error === 'invalid_grant' && kind === 'refresh') this.#falseDeath(rp, kind, 'invalid_grant');
    return answer;
  }

  /** RP-initiated logout with the "Yes" of the confirmation form: ends every RP session of the browser's SSO session. */
  async logout(user: VirtualUser): Promise<'ok' | 'refused' | 'unknown'> {
    const first = user.rps[0];
    if (!first) return 'refused';
    const end = new URL(this.endpoints.endSession);
    end.search = new URLSearchParams({ id_token_hint: first.idToken, post_logout_redirect_uri: LOGGED_OUT, client_id: first.client }).toString();
    const at = Date.now();
    for (const rp of user.rps) rp.logoutTriedAt = at;
    const confirm = await this.page('logout (ask)', () => user.ua.navigate(end.href));
    if (!confirm || confirm.status !== 200 || !/\/session\/end\/confirm/.test(confirm.html)) return confirm && confirm.status < 500 ? 'refused' : 'unknown';
    const done = await this.page('logout (yes)', () => user.ua.submit({ url: end.href, status: 200, html: confirm.html, headers: new Headers() }, '/session/end/confirm', { logout: 'yes' }));
    if (!done) return 'unknown';
    if (done.leftTo?.startsWith(LOGGED_OUT) || (done.status === 200 && /signed out/i.test(done.html))) {
      for (const rp of user.rps) rp.logoutAt = at;
      return 'ok';
    }
    return done.status === 0 || done.status >= 500 ? 'unknown' : 'refused';
  }

  /** When the session ended: its logout, or the deadline Curfew announced. */
  static endOf(rp: RpSession): number | undefined {
    return rp.logoutAt ?? rp.deadline;
  }
}
