// The logger (pino, JSON lines). Secrets and message content are never logged above debug:
// callers log counts and ids, and the redact list covers the headers that carry keys.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'langfuse-otel-bridge' },
      redact: {
        paths: ['headers.authorization', 'auth.secretKey', 'secretKey', '*.secretKey', 'tenants[*].secretKey', 'tenancy.tenants[*].secretKey', 'config.tenancy.tenants[*].secretKey'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
