import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs on stdout. Secrets never reach a log call; the redaction is a second line of defence. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['*.client_secret', '*.password', '*.app_password', '*.access_token', '*.authorization', '*.assertion', '*.client_assertion', '*.subject_token', '*.actor_token'],
      censor: '[redacted]',
    },
  });
}
