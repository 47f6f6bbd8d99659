import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { AuditRecord } from '../../audit/types.ts';
import { CurfewError } from '../../errors.ts';
import type { Store } from '../../store/types.ts';
import { consoleOf } from '../request-state.ts';

/** At most this many events on one page: a session's story, not a log dump. */
const MAX_EVENTS = 500;

export function duration(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200 && seconds % 3600 !== 0) return `${Math.round(seconds / 60)} min`;
  return seconds % 3600 === 0 ? `${seconds / 3600} h` : `${Math.round(seconds / 60)} min`;
}

const text = (v: unknown) => (typeof v === 'string' ? v : '');
const num = (v: unknown) => (typeof v === 'number' ? v : 0);
const decided = (data: Record<string, unknown>, limit: string) => text((data.decidedBy as Record<string, unknown> | undefined)?.[limit]) || 'default';

/** One audit event as a sentence an auditor reads (SPEC §10: the session's story). */
export function describeEvent(e: AuditRecord): string {
  const d = e.data ?? {};
  const app = e.client ? ` in ${e.client}` : '';
  switch (e.type) {
    case 'session.started':
      if (d.scope === 'rp') {
        return `Started using ${e.client}: idle limit ${duration(num(d.idleSeconds))} (${decided(d, 'idle')}), absolute limit ${duration(num(d.absoluteSeconds))} (${decided(d, 'absolute')}); its refreshes ${d.refreshIsActivity ? 'count' : 'do not count'} as activity (${decided(d, 'refreshIsActivity')}).`;
      }
      return `Signed in: idle limit ${duration(num(d.idleSeconds))} (${decided(d, 'idle')}), absolute limit ${duration(num(d.absoluteSeconds))} (${decided(d, 'absolute')}), warning ${duration(num(d.warningSeconds))} before the end.`;
    case 'session.warned':
      return `Warning shown${app}: ${duration(num(d.secondsLeft))} left, ending at ${text(d.expiresAt)}.`;
    case 'session.ended': {
      const activity = Object.entries((d.activity as Record<string, { count: number; lastAt: number }> | undefined) ?? {})
        .map(([source, c]) => `${source} ×${c.count} (last ${new Date(c.lastAt).toISOString()})`)
        .join(', ');
      const late = d.deadline ? ` Deadline ${text(d.deadline)}, processed ${num(d.lateMs)} ms after it.` : '';
      return `Ended${app} (${text(d.reason)}): last active ${text(d.lastActiveAt)}, idle for ${duration(num(d.idleSeconds))}.${late} Activity: ${activity || 'none recorded'}.`;
    }
    default:
      return `${e.type}${app}${Object.keys(d).length ? `: ${JSON.stringify(d)}` : ''}`;
  }
}

export interface TimelineDeps {
  store: Store;
  requireConsole: (ctx: Context, next: Next) => Promise<void>;
  page: (ctx: Context, view: string, data: Record<string, unknown>) => void;
}

/**
 * `/admin/sessions/:id/timeline`: one session's audit events in order, as sentences — started
 * with which limits, warned, active by which source, ended how and how late. Works after the
 * session ended (the audit outlives it); only the admin's own org's events are read.
 */
export function sessionTimelineRoute(router: Router, { store, requireConsole, page }: TimelineDeps): void {
  router.get('/sessions/:id/timeline', requireConsole, async (ctx) => {
    const org = consoleOf(ctx).org;
    const session = ctx.params.id!;
    const events: AuditRecord[] = [];
    let cursor: string | undefined;
    do {
      const result = await store.audit.query({ org, session, limit: 100, ...(cursor ? { cursor } : {}) });
      events.push(...result.items);
      cursor = result.nextCursor;
    } while (cursor && events.length < MAX_EVENTS);
    if (!events.length) throw new CurfewError('not_found', 'no events for this session in your organization');
    const user = events.find((e) => e.user)?.user;
    const username = user ? (await store.directory.getUser(user))?.username : undefined;
    page(ctx, 'timeline', {
      session,
      username: username ?? user ?? '',
      events: events.reverse().map((e) => ({ at: e.at, type: e.type, client: e.client ?? '', text: describeEvent(e) })),
    });
  });
}
