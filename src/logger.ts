import { pino, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear: credentials, codes and tokens must never reach
 * a log line even when a whole request or record is logged by mistake.
 */
const REDACT = [
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'client_secret',
  '*.client_secret',
  'code',
  '*.code',
  'totpSecret',
  '*.totpSecret',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'curfew' } };
  return destination ? pino(options, destination) : pino(options);
}
