// Builds a whole service for tests: in-memory sink, memory store, a manual clock that tests move.
import { loadServiceConfig, type Env } from '../../src/config/service-config.js';
import { createSilentLogger } from './silent-logger.js';
import { createService, type Service } from '../../src/service.js';
import type { Store } from '../../src/spool/store.js';
import { createInMemorySink, type InMemorySink } from './in-memory-sink.js';
import { createManualClock, type ManualClock } from './manual-clock.js';

export interface TestService extends Service {
  sink: InMemorySink;
  clock: ManualClock;
  /** Advances the clock, queues what is due and lets the export workers send it. */
  flush(advanceMillis?: number): Promise<void>;
}

export async function createTestService(env: Env = {}, options: { store?: Store } = {}): Promise<TestService> {
  const sink = createInMemorySink();
  const clock = createManualClock(Date.parse('2026-11-26T12:00:00Z'));
  const config = loadServiceConfig({
    BRIDGE_STORE: 'memory',
    BRIDGE_TRACE_IDLE_MS: '1000',
    BRIDGE_METRICS: 'false',
    // The budget would read the test runner's own memory.
    BRIDGE_MEMORY_LIMIT_MIB: '16384',
    ...env,
  });
  const service = createService(config, {
    logger: createSilentLogger(),
    sink,
    ...(options.store ? { store: options.store } : {}),
    clock,
    initialBackoffMillis: 1,
    maxBackoffMillis: 5,
    exportLingerMillis: 0,
  });
  await service.start();
  return {
    ...service,
    sink,
    clock,
    async flush(advanceMillis = 0) {
      await clock.advance(advanceMillis);
      service.pipeline.flush('due');
      for (let i = 0; i < 20; i++) {
        service.wake();
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}
