// Builds a whole service for tests: in-memory sink, memory spool, a controllable clock.
import { loadServiceConfig, type Env } from '../../src/config/service-config.js';
import { createSilentLogger } from '../../src/logger.js';
import { createService, type Service } from '../../src/service.js';
import type { Spool } from '../../src/spool/spool.js';
import { createInMemorySink, type InMemorySink } from './in-memory-sink.js';

export interface TestService extends Service {
  sink: InMemorySink;
  clock: { now: number; advance(millis: number): void };
  /** Advances the clock and lets the export worker run until nothing more is ready. */
  flush(advanceMillis?: number): Promise<void>;
}

export function createTestService(env: Env = {}, options: { spool?: Spool } = {}): TestService {
  const sink = createInMemorySink();
  const clock = {
    now: Date.parse('2026-11-26T12:00:00Z'),
    advance(millis: number) {
      clock.now += millis;
    },
  };
  const config = loadServiceConfig({ BRIDGE_STORE: 'memory', BRIDGE_TRACE_IDLE_MS: '1000', ...env });
  const service = createService(config, {
    logger: createSilentLogger(),
    sink,
    ...(options.spool ? { spool: options.spool } : {}),
    now: () => clock.now,
    exportTickMillis: 5,
    initialBackoffMillis: 1,
    maxBackoffMillis: 5,
  });
  return {
    ...service,
    sink,
    clock,
    async flush(advanceMillis = 0) {
      clock.advance(advanceMillis);
      for (let i = 0; i < 50; i++) {
        service.worker.wake();
        await new Promise((r) => setTimeout(r, 2));
      }
    },
  };
}
