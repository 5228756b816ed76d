// The memory budget on the HTTP surface: past BRIDGE_MEMORY_LIMIT_MIB (RSS) or close to V8's heap
// limit, ingestion answers 503 with Retry-After and ready is 503, without reading the batch; back
// under it, both recover. Memory readings are pinned (the test runner's own would decide otherwise).
import request from 'supertest';
import { afterEach, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { createSilentLogger } from '../helpers/silent-logger.js';
import type { MemoryReading } from '../../src/pipeline/ingest-pipeline.js';
import { createService, type Service } from '../../src/service.js';
import { createInMemorySink } from '../helpers/in-memory-sink.js';
import { createManualClock } from '../helpers/manual-clock.js';

const MIB = 1024 * 1024;
let service: Service | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

const batch = {
  batch: [{ id: 'e1', type: 'trace-create', timestamp: '2026-11-26T12:00:00.000Z', body: { id: 't1', name: 'n' } }],
};

it.each([
  ['RSS past the limit', { rssBytes: 200 * MIB, heapUsedBytes: 10 * MIB, heapLimitBytes: 1000 * MIB }],
  ['the heap close to its limit', { rssBytes: 50 * MIB, heapUsedBytes: 90 * MIB, heapLimitBytes: 100 * MIB }],
])('%s: 503 with Retry-After and ready 503, then both recover', async (_name, over: MemoryReading) => {
  let reading: MemoryReading = over;
  const config = loadServiceConfig({ BRIDGE_STORE: 'memory', BRIDGE_METRICS: 'false', BRIDGE_MEMORY_LIMIT_MIB: '100' });
  const clock = createManualClock(Date.parse('2026-11-26T12:00:00Z'));
  service = createService(config, { logger: createSilentLogger(), sink: createInMemorySink(), clock, memory: () => reading });
  await service.start();

  const refused = await request(service.app).post('/api/public/ingestion').send(batch);
  expect(refused.status).toBe(503);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  expect(refused.body).toMatchObject({ error: 'ServiceUnavailableError', message: expect.stringContaining('memory limit') });
  expect((await request(service.app).get('/api/public/ready')).status).toBe(503);
  expect(service.store.log.pendingEntries()).toBe(0);

  reading = { rssBytes: 60 * MIB, heapUsedBytes: 10 * MIB, heapLimitBytes: 1000 * MIB };
  await new Promise((r) => setTimeout(r, 60)); // the reading is sampled every 50 ms
  expect((await request(service.app).get('/api/public/ready')).status).toBe(200);
  expect((await request(service.app).post('/api/public/ingestion').send(batch)).status).toBe(207);
  const metrics = await (await request(service.app).get('/metrics')).text;
  expect(metrics).toMatch(/^bridge_requests_rejected_total\{reason="memory_limit"\} [1-9]/m);
});
