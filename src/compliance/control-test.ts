import { randomBytes } from 'node:crypto';
import { newUser } from '../accounts/users.ts';
import type { Audit } from '../audit/audit.ts';
import type { Logger } from '../logger.ts';
import type { ClientSecrets } from '../orgs/client-secret.ts';
import type { PolicyChange } from '../sessions/change-policy.ts';
import type { Policy, PolicyRule } from '../sessions/policy-types.ts';
import { validatePolicy } from '../sessions/policy-validate.ts';
import type { SessionService } from '../sessions/service.ts';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { Store } from '../store/types.ts';
import type { ControlReceipts } from './control-receiver.ts';

/**
 * SPEC §13, the control test: Curfew signs a synthetic user of the org into a synthetic client
 * whose idle limit is the shortest a policy allows, lets the session expire, and proves three
 * things an auditor cannot see from configuration alone: the session was alive before its
 * deadline, refused at it (the client's own /session/status, over HTTP), and announced to the
 * client's back-channel receiver (a logout token, verified with the JWKS, with the right sid).
 */

/** Marked in every name, so nobody mistakes the control test's user or client for a person's. */
export const CONTROL_USERNAME = 'curfew-control-test';
export const CONTROL_RULE = 'curfew-control-test';
export const CONTROL_ROLE = 'curfew-synthetic';
export const controlClientId = (org: string) => `curfew-control-${org}`;
export const isControlClient = (clientId: string) => clientId.startsWith('curfew-control-');
export const RECEIVER_PATH = '/compliance/control-test/backchannel';
/** Derived, so every instance knows it without storing it; never shown anywhere. */
const controlClientSecret = (hash: IdentifierHasher, clientId: string) => hash(`control-test-secret:${clientId}`);

export interface ControlTestDeps {
  store: Store;
  sessions: SessionService;
  audit: Audit;
  hash: IdentifierHasher;
  clientSecrets: ClientSecrets;
  receipts: ControlReceipts;
  logger: Logger;
  issuer: string;
  /** Where this instance answers HTTP itself (its status endpoint is checked as a client would). */
  internalBase: () => string;
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  /** How long to wait, after the deadline, for the logout token to arrive. */
  announceTimeoutMs: number;
  /** Real-time pause between looks at the shared clock and the receiver (tests shorten it). */
  pollMs?: number;
}

export interface ControlTestResult {
  outcome: 'pass' | 'fail';
  failures: string[];
  trigger: 'manual' | 'schedule';
  signedInAt: string;
  idleSeconds: number;
  deadline: string | null;
  aliveBefore: { at: string; active: boolean } | null;
  /**
   * The last check inside the final second before the deadline (null when the shared clock
   * jumped past that second between two looks): how close to its deadline the session was
   * still alive.
   */
  lastAliveMsBeforeDeadline: number | null;
  refusedAt: string | null;
  refusedLateMs: number | null;
  announcedAt: string | null;
  announcedLateMs: number | null;
}

/** The control test looks once more inside this last stretch before the deadline. */
const LAST_LOOK_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (ms: number) => new Date(ms).toISOString();

/** The rule gives the synthetic client the shortest idle limit a policy may hold (and above the warning). */
function controlRule(policy: Policy, clientId: string): PolicyRule {
  return { name: CONTROL_RULE, match: { clients: [clientId] }, idleTimeoutSeconds: Math.max(60, policy.warningSeconds + 1) };
}

export function createControlTest(deps: ControlTestDeps) {
  const { store, sessions, hash } = deps;
  const pollMs = deps.pollMs ?? 250;
  const running = new Map<string, ControlTestProgress>();
  const inFlight = new Set<Promise<unknown>>();
  let stopping = false;
  /** A stopping instance does not wait out a deadline or a token: the run ends, recorded as interrupted. */
  const pause = async (ms: number) => {
    if (stopping) throw new Failure('interrupted: the instance shut down before the test finished');
    await sleep(ms);
  };

  /** Creates what is missing — the synthetic user, client and rule — and leaves what is there. */
  async function ensure(orgId: string) {
    const org = await store.directory.getOrg(orgId);
    if (!org) throw new Error(`org ${orgId} not found`);
    let user = await store.directory.findUserByName(orgId, CONTROL_USERNAME);
    if (!user) {
      // Nobody knows its password: it signs in only through the control test.
      user = await newUser(orgId, { username: CONTROL_USERNAME, password: randomBytes(32).toString('base64url'), roles: [CONTROL_ROLE] });
      await store.directory.putUser(user);
    }
    const clientId = controlClientId(orgId);
    const client = await store.directory.getClient(clientId);
    if (!client) {
      await store.directory.putClient({
        client_id: clientId,
        org: orgId,
        client_secret_hash: deps.clientSecrets.seal(controlClientSecret(hash, clientId)),
        redirect_uris: [`${deps.issuer}/compliance/control-test/callback`],
        post_logout_redirect_uris: [],
        backchannel_logout_uri: `${deps.issuer}${RECEIVER_PATH}`,
        backchannel_logout_session_required: true,
        adminApi: false,
        firstParty: true,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code'],
        id_token_signed_response_alg: 'RS256',
        createdAt: new Date().toISOString(),
      });
    }
    const rule = controlRule(org.policy, clientId);
    const current = org.policy.rules.find((r) => r.name === CONTROL_RULE);
    if (JSON.stringify(current) !== JSON.stringify(rule)) {
      const users = await store.directory.listUsers(orgId);
      const clients = await store.directory.listClients(orgId);
      const checked = validatePolicy({ ...org.policy, rules: [...org.policy.rules.filter((r) => r.name !== CONTROL_RULE), rule] }, {
        clients: clients.map((c) => c.client_id),
        roles: [...new Set(['admin', ...users.flatMap((u) => u.roles)])],
      });
      if (!checked.ok) throw new Error(`the control test's rule does not fit the org's policy: ${checked.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
      await deps.changePolicy(orgId, checked.policy, 'system:compliance');
    }
    return { org, user, clientId, idleSeconds: rule.idleTimeoutSeconds ?? 60 };
  }

  async function status(clientId: string, sid: string): Promise<{ active: boolean; expiresAt?: string }> {
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(controlClientSecret(hash, clientId))}`).toString('base64');
    const res = await fetch(`${deps.internalBase()}/session/status?${new URLSearchParams({ sid })}`, { headers: { authorization: `Basic ${basic}` } });
    if (!res.ok) throw new Error(`/session/status answered HTTP ${res.status}`);
    const body = (await res.json()) as { active?: unknown; expiresAt?: unknown };
    return { active: body.active === true, ...(typeof body.expiresAt === 'string' ? { expiresAt: body.expiresAt } : {}) };
  }

  async function execute(orgId: string, trigger: 'manual' | 'schedule', actor: string): Promise<ControlTestResult> {
    let prepared: Awaited<ReturnType<typeof ensure>>;
    try {
      prepared = await ensure(orgId);
    } catch (err) {
      // A run that could not even set up is a failed run, on the record like any other.
      const failures = [`the control test could not set up its user, client or rule: ${err instanceof Error ? err.message : String(err)}`];
      const result: ControlTestResult = {
        outcome: 'fail', failures, trigger, signedInAt: '', idleSeconds: 0, deadline: null, aliveBefore: null, lastAliveMsBeforeDeadline: null, refusedAt: null, refusedLateMs: null, announcedAt: null, announcedLateMs: null,
      };
      await deps.audit({ type: 'compliance.control_test', org: orgId, actor, client: controlClientId(orgId), data: { ...result } });
      return result;
    }
    const { user, clientId, idleSeconds } = prepared;
    const uid = `ctl_${randomBytes(16).toString('base64url')}`;
    const sid = `ctl_${randomBytes(16).toString('base64url')}`;
    const org = await store.directory.getOrg(orgId);
    if (!org) throw new Error(`org ${orgId} not found`);
    const failures: string[] = [];
    const result: ControlTestResult = {
      outcome: 'fail', failures, trigger, signedInAt: '', idleSeconds, deadline: null, aliveBefore: null, lastAliveMsBeforeDeadline: null, refusedAt: null, refusedLateMs: null, announcedAt: null, announcedLateMs: null,
    };
    try {
      // The same two steps a browser sign-in takes once the user is authenticated.
      const session = await sessions.recordLogin({ uid, user, org, ip: undefined, client: clientId });
      await sessions.recordRp({ uid, client: clientId, sid });
      result.signedInAt = iso(session.signedInAt);

      const beforeAt = await store.now();
      const before = await status(clientId, sid);
      result.aliveBefore = { at: iso(beforeAt), active: before.active };
      if (!before.active || !before.expiresAt) throw new Failure('the session was not active before its deadline');
      const deadline = Date.parse(before.expiresAt);
      result.deadline = before.expiresAt;
      running.set(orgId, { phase: 'waiting_for_deadline', deadline: before.expiresAt });
      if (deadline - beforeAt > (idleSeconds + 1) * 1000) failures.push(`the deadline came ${deadline - beforeAt} ms after sign-in, longer than the ${idleSeconds} s idle limit`);

      // Wait on the shared clock, not this instance's: that is the clock enforcement uses.
      let now = await store.now();
      while (now < deadline) {
        if (deadline - now <= LAST_LOOK_MS && result.lastAliveMsBeforeDeadline === null) {
          // Status is passive: looking does not move the deadline being tested.
          const last = await status(clientId, sid);
          if (!last.active) throw new Failure(`the session was refused ${deadline - now} ms before its deadline`);
          result.lastAliveMsBeforeDeadline = deadline - now;
        }
        await pause(Math.min(pollMs, deadline - now));
        now = await store.now();
      }
      const refusedAt = await store.now();
      const after = await status(clientId, sid);
      if (after.active) throw new Failure(`the session was still active ${refusedAt - deadline} ms after its deadline`);
      result.refusedAt = iso(refusedAt);
      result.refusedLateMs = refusedAt - deadline;
      running.set(orgId, { phase: 'waiting_for_logout_token', deadline: before.expiresAt });

      const giveUpAt = Date.now() + deps.announceTimeoutMs;
      let receipt = await deps.receipts.find(sid);
      while (!receipt && Date.now() < giveUpAt) {
        await pause(pollMs);
        receipt = await deps.receipts.find(sid);
      }
      if (!receipt) throw new Failure(`no logout token reached the test receiver within ${Math.round(deps.announceTimeoutMs / 1000)} s of the deadline`);
      if (receipt.sid !== sid || receipt.client !== clientId) throw new Failure('the logout token named another session');
      result.announcedAt = iso(receipt.receivedAt);
      result.announcedLateMs = receipt.receivedAt - deadline;
    } catch (err) {
      failures.push(err instanceof Failure ? err.message : `the control test could not run: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      // Never leave a synthetic session behind, whatever failed.
      await sessions.end(uid, 'admin').catch(() => undefined);
    }
    result.outcome = failures.length === 0 ? 'pass' : 'fail';
    await deps.audit({ type: 'compliance.control_test', org: orgId, actor, user: user.id, client: clientId, session: uid, data: { ...result } });
    return result;
  }

  return {
    ensure,
    /** Runs one control test of the org; `undefined` when one is already running here. */
    async run(orgId: string, trigger: 'manual' | 'schedule', actor: string): Promise<ControlTestResult | undefined> {
      if (running.has(orgId) || stopping) return undefined;
      running.set(orgId, { phase: 'signing_in' });
      const run = execute(orgId, trigger, actor);
      inFlight.add(run);
      try {
        return await run;
      } finally {
        inFlight.delete(run);
        running.delete(orgId);
      }
    },
    /** Ends every run of this instance quickly (each recorded as interrupted) and waits for them. */
    async stop(): Promise<void> {
      stopping = true;
      await Promise.allSettled([...inFlight]);
    },
    isRunning: (orgId: string) => running.has(orgId),
    /** Where this instance's run of the org stands (the console shows it; tests wait on it). */
    progress: (orgId: string): ControlTestProgress | undefined => running.get(orgId),
    /** The control test's users: their sessions are kept out of the org's figures. */
    async syntheticUsers(orgId: string): Promise<string[]> {
      const user = await store.directory.findUserByName(orgId, CONTROL_USERNAME);
      return user ? [user.id] : [];
    },
  };
}

export interface ControlTestProgress {
  phase: 'signing_in' | 'waiting_for_deadline' | 'waiting_for_logout_token';
  deadline?: string;
}

export type ControlTest = ReturnType<typeof createControlTest>;

class Failure extends Error {}
