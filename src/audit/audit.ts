import type { Logger } from '../logger.ts';
import type { AuditStore } from './store.ts';
import type { AuditRecord, NewAuditRecord } from './types.ts';

export type Audit = (event: NewAuditRecord) => Promise<AuditRecord>;

/**
 * The one path every security event takes (SPEC §10): the durable stream in the store first,
 * so an event pino shows is an event admins can query, then a pino line.
 * A store failure propagates: an action whose audit cannot be written does not silently succeed.
 */
export function createAudit(store: AuditStore, logger: Logger): Audit {
  const log = logger.child({ component: 'audit' });
  return async (event) => {
    const record = await store.append(event);
    log.info({ audit: record }, record.type);
    return record;
  };
}
