// A logger that writes nothing, for tests that build services and workers in process.
import { pino, type Logger } from 'pino';

export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
