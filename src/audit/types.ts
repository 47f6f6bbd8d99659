/**
 * Security events (SPEC §10). One dotted name per kind of event; `data` never holds a
 * secret (password, TOTP secret or code, recovery code, token).
 */
export const AUDIT_EVENT_TYPES = [
  'session.started',
  'session.warned',
  'session.ended',
  'login.succeeded',
  'login.failed',
  'login.blocked',
  'mfa.required',
  'mfa.succeeded',
  'mfa.failed',
  'mfa.locked',
  'backchannel.delivered',
  'backchannel.retrying',
  'backchannel.dead',
  'policy.changed',
  'seed.applied',
  'admin.write',
  'compliance.control_test',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export type EndReason = 'logout' | 'idle' | 'absolute' | 'admin' | 'policy' | 'user_disabled' | 'client_deleted';

export interface NewAuditRecord {
  type: AuditEventType;
  /** Org the event belongs to; events without one (a login for an unknown client) go to `_`. */
  org?: string;
  actor?: string;
  user?: string;
  session?: string;
  client?: string;
  ip?: string;
  data?: Record<string, unknown>;
}

export interface AuditRecord extends NewAuditRecord {
  /** Store-assigned, ordered: later events have greater ids. */
  id: string;
  /** ISO 8601, from the store's shared clock. */
  at: string;
}

export interface AuditQuery {
  org: string;
  type?: AuditEventType;
  user?: string;
  session?: string;
  /** ISO 8601: only events at or after this instant. */
  since?: string;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
  limit: number;
}

export interface AuditPage {
  items: AuditRecord[];
  nextCursor?: string;
}
