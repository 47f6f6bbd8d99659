import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.ts';

function capture() {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }));
  return { logger, lines };
}

describe('logger', () => {
  it('never writes a credential, code or token, at the top level or one level down', () => {
    const { logger, lines } = capture();
    logger.info({
      password: 'hunter2-top', user: { password: 'hunter2-nested', passwordHash: '$argon2id$secret-hash' },
      client_secret: 'cs-top', client: { client_secret: 'cs-nested' }, code: '123456', body: { code: '654321' },
      totpSecret: 'JBSWY3DPEHPK3PXP', req: { headers: { authorization: 'Bearer tok-abc', cookie: 'curfew.session=sess-abc' } },
      res: { headers: { 'set-cookie': 'curfew.session=sess-new' } },
    }, 'everything at once');
    const line = lines.join('');
    for (const secret of ['hunter2-top', 'hunter2-nested', 'secret-hash', 'cs-top', 'cs-nested', '123456', '654321', 'JBSWY3DPEHPK3PXP', 'tok-abc', 'sess-abc', 'sess-new']) {
      expect(line, secret).not.toContain(secret);
    }
    expect(line).toContain('[redacted]');
    expect(JSON.parse(line)).toMatchObject({ service: 'curfew', msg: 'everything at once', user: { password: '[redacted]' } });
  });

  it('writes at its level and above only', () => {
    const { logger, lines } = capture();
    logger.debug('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('shown');
  });
});
