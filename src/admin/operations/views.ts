import type { ClientRecord, User } from '../../orgs/types.ts';
import { expiresAt, rpDeadlines, ssoDeadlines } from '../../sessions/deadlines.ts';
import type { PreviewOutcome } from '../../sessions/preview-policy.ts';
import type { SsoSession } from '../../sessions/types.ts';
import type { PreviewedSession } from './policy.ts';
import { isInternalClient } from '../../orgs/internal-clients.ts';

/** Users and clients as admins see them: never a password hash or a client secret. */
export const publicUser = ({ passwordHash: _hash, ...user }: User) => user;
export type PublicUser = ReturnType<typeof publicUser>;

export const publicClient = ({ client_secret_hash, ...client }: ClientRecord) => ({ ...client, hasSecret: client_secret_hash !== undefined, internal: isInternalClient(client.client_id) });
export type PublicClient = ReturnType<typeof publicClient>;

const iso = (ms: number) => new Date(ms).toISOString();

export function sessionView(s: SsoSession) {
  const sso = ssoDeadlines(s);
  return {
    id: s.id,
    user: s.user,
    ip: s.ip,
    signedInAt: iso(s.signedInAt),
    lastActiveAt: iso(s.lastActiveAt),
    idleExpiresAt: iso(sso.idleAt),
    absoluteExpiresAt: iso(sso.absoluteAt),
    expiresAt: iso(expiresAt(sso)),
    rpSessions: Object.values(s.rps)
      .filter((rp) => rp.endedAt === undefined)
      .map((rp) => {
        const d = rpDeadlines(s, rp);
        return { client: rp.client, sid: rp.sid, startedAt: iso(rp.startedAt), lastActiveAt: iso(rp.lastActiveAt), idleExpiresAt: iso(d.idleAt), absoluteExpiresAt: iso(d.absoluteAt), expiresAt: iso(expiresAt(d)) };
      }),
  };
}
export type SessionView = ReturnType<typeof sessionView>;

/** A policy preview's instants as ISO strings, like every other instant of the API. */
export function previewView<P extends { now: number; affected: PreviewedSession[] }>(preview: P) {
  const ends = (e: { expiresAt: number; newExpiresAt: number; outcome: PreviewOutcome }) => ({ expiresAt: iso(e.expiresAt), newExpiresAt: iso(e.newExpiresAt), outcome: e.outcome });
  return {
    ...preview,
    now: iso(preview.now),
    affected: preview.affected.map((a) => ({ session: a.session, user: a.user, username: a.username, ...ends(a), apps: a.apps.map((app) => ({ client: app.client, ...ends(app) })) })),
  };
}
