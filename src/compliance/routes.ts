import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import type { Audit } from '../audit/audit.ts';
import { CurfewError } from '../errors.ts';
import { renderPage, setPageHeaders } from '../http/views.ts';
import type { Logger } from '../logger.ts';
import type { ClientSecrets } from '../orgs/client-secret.ts';
import type { PolicyChange } from '../sessions/change-policy.ts';
import type { Policy } from '../sessions/policy-types.ts';
import type { SessionService } from '../sessions/service.ts';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { Store } from '../store/types.ts';
import { controlReceipts, mountControlReceiver } from './control-receiver.ts';
import { createControlTest, isControlClient, RECEIVER_PATH } from './control-test.ts';
import { parseReportRequest, type ReportRequest } from './period.ts';
import { readPeriod } from './read-events.ts';
import { renderPdf } from './render-pdf.ts';
import { complianceReport, type ComplianceReport } from './report.ts';
import { reportSections } from './report-view.ts';
import { controlTestSchedule } from './schedule.ts';

export interface ComplianceDeps {
  provider: Provider;
  store: Store;
  sessions: SessionService;
  audit: Audit;
  hash: IdentifierHasher;
  clientSecrets: ClientSecrets;
  logger: Logger;
  issuer: string;
  internalBase: () => string;
  publicJwks: JSONWebKeySet;
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  /**
   * The admin API's authentication (src/admin/auth.ts `requireAdminToken`, with the console's
   * sessions), injected by app.ts: the console embeds this module's page, so compliance must not
   * import admin/ back. It must leave the caller in `ctx.state.admin`.
   */
  adminAuth: Middleware;
  settings: { controlTestIntervalMinutes: number; controlTestAnnounceSeconds: number };
  /** Tests shorten the control test's real-time polling. */
  pollMs?: number;
}

/**
 * SPEC §13, compliance evidence: the report (JSON, HTML, PDF) under the admin API's external
 * contract path, the control test on demand and on a schedule, and its test receiver.
 */
export function createCompliance(deps: ComplianceDeps) {
  const { store } = deps;
  const receipts = controlReceipts(store.models, deps.hash);
  const controlTest = createControlTest({
    store, sessions: deps.sessions, audit: deps.audit, hash: deps.hash, clientSecrets: deps.clientSecrets, receipts, logger: deps.logger,
    issuer: deps.issuer, internalBase: deps.internalBase, changePolicy: deps.changePolicy,
    announceTimeoutMs: deps.settings.controlTestAnnounceSeconds * 1000,
    ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
  });
  const intervalSeconds = deps.settings.controlTestIntervalMinutes * 60;
  const schedule = intervalSeconds > 0
    ? controlTestSchedule({
      directory: store.directory,
      controlTest,
      lease: store.rateLimiter({ name: 'compliance-control-test', points: 1, durationSeconds: intervalSeconds, blockSeconds: intervalSeconds }),
      logger: deps.logger,
      checkEveryMs: Math.min(60_000, intervalSeconds * 1000),
    })
    : undefined;

  async function report(orgId: string, request: Pick<ReportRequest, 'since' | 'until'>): Promise<ComplianceReport> {
    const org = await store.directory.getOrg(orgId);
    if (!org) throw new CurfewError('not_found', 'org not found');
    const [{ events, laterPolicyChanges }, syntheticUsers, now] = await Promise.all([
      readPeriod(store.audit, orgId, request.since, request.until),
      controlTest.syntheticUsers(orgId),
      store.now(),
    ]);
    return complianceReport({
      org: { id: org.id, name: org.name },
      period: { since: request.since, until: request.until },
      generatedAt: new Date(now).toISOString(),
      events, laterPolicyChanges, currentPolicy: org.policy, syntheticUsers,
    });
  }

  /** Starts a run in the background: it takes the synthetic session's idle limit (a minute or more). */
  function startRun(orgId: string, actor: string): boolean {
    if (controlTest.isRunning(orgId)) return false;
    controlTest.run(orgId, 'manual', actor).catch((err: unknown) => deps.logger.error({ err, org: orgId }, 'control test failed to run'));
    return true;
  }

  const router = new Router();
  const auth = deps.adminAuth;
  const ownOrg = async (ctx: Context, next: Next) => {
    const org = ctx.params.org;
    if (!org || org !== ctx.state.admin?.org || !(await store.directory.getOrg(org))) throw new CurfewError('not_found', 'org not found', { detail: `${ctx.state.admin?.actor ?? 'nobody'} of org ${ctx.state.admin?.org ?? '-'} asked for org ${org ?? '-'}` });
    ctx.set('Cache-Control', 'no-store');
    await next();
  };
  const orgOf = (ctx: Context) => String(ctx.params.org);

  router.get('/admin/api/v1/orgs/:org/compliance', auth, ownOrg, async (ctx) => {
    const request = parseReportRequest(ctx.query, await store.now());
    const r = await report(orgOf(ctx), request);
    const name = `curfew-compliance-${r.org.id}-${r.period.since.slice(0, 10)}-${r.period.until.slice(0, 10)}`;
    if (request.format === 'html') {
      renderPage(ctx, 'compliance/report', { report: r, sections: reportSections(r) });
    } else if (request.format === 'pdf') {
      setPageHeaders(ctx);
      ctx.type = 'application/pdf';
      ctx.set('Content-Disposition', `attachment; filename="${name}.pdf"`);
      ctx.body = await renderPdf(r);
    } else {
      ctx.body = r;
    }
  });
  router.post('/admin/api/v1/orgs/:org/compliance/control-test', auth, ownOrg, async (ctx) => {
    const actor = ctx.state.admin?.actor ?? 'unknown';
    if (!startRun(orgOf(ctx), actor)) throw new CurfewError('conflict', 'a control test of this org is already running on this instance');
    ctx.status = 202;
    ctx.body = { state: 'running', message: 'the control test runs in the background; its result is the compliance.control_test audit event and appears in the report' };
  });
  mountControlReceiver(router, { path: RECEIVER_PATH, issuer: deps.provider.issuer, jwks: deps.publicJwks, receipts, now: () => store.now(), isControlClient });

  return {
    router, report, controlTest, startRun, schedule,
    /** Stops the schedule and ends this instance's runs (an instance shutting down waits for nothing else). */
    async stop() {
      await Promise.all([controlTest.stop(), schedule?.stop()]);
    },
  };
}

export type Compliance = ReturnType<typeof createCompliance>;
