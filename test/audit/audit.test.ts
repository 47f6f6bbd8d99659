import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { createLogger } from '../../src/logger.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { AuditStore } from '../../src/store/types.ts';

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) })) };
}

describe('audit', () => {
  it('writes the event to the store first, then one log line naming it', async () => {
    const store = createMemoryStore();
    const { logger, lines } = capture();
    const audit = createAudit(store.audit, logger);
    const record = await audit({ type: 'login.failed', org: 'acme', user: 'u1', data: { reason: 'invalid_credentials' } });
    expect(record).toMatchObject({ type: 'login.failed', org: 'acme', user: 'u1' });
    expect((await store.audit.query({ org: 'acme', limit: 10 })).items).toEqual([record]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: 'audit', msg: 'login.failed', audit: { type: 'login.failed', org: 'acme' } });
    await store.close();
  });

  it('fails the action when the store cannot take the event, and logs nothing as if it had', async () => {
    const failing: AuditStore = {
      append: async () => {
        throw new Error('store down');
      },
      query: async () => ({ items: [] }),
    };
    const { logger, lines } = capture();
    await expect(createAudit(failing, logger)({ type: 'admin.write', org: 'acme' })).rejects.toThrow('store down');
    expect(lines).toEqual([]);
  });
});
