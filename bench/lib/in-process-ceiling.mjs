// The in-process ceiling: the built service (dist/service.js, SQLite store) fed the benchmark's
// bodies without HTTP in front: JSON.parse, pipeline.ingest, the 207 body serialised, as the
// receiver route does, and the real OTLP export to the benchmark's sink. Run as a child process
// (pinned like the bridge) by bench/throughput.mjs; prints one JSON line when it starts sending
// and one when every body was accepted, then waits to be killed.
// This is the one benchmark file that knows the service's in-process API: adjust `openService`
// and `ingest` when it changes.
import { createBodyStream } from './litellm-bodies.mjs';
import { ROOT } from './bridge-process.mjs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [otlpUrl, dataDir, eventsText, batchText, traceIdleMillis] = process.argv.slice(2);
const events = Number(eventsText);
const batch = Number(batchText);

const dist = (file) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);

async function openService() {
  const { loadServiceConfig } = await dist('config/service-config.js');
  const { createService } = await dist('service.js');
  const { createLogger } = await dist('logger.js');
  const config = loadServiceConfig({
    BRIDGE_STORE: 'sqlite',
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_TRACE_IDLE_MS: traceIdleMillis,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
  });
  const service = await createService(config, { logger: createLogger('silent') });
  // The issue-7 service replays and starts its workers in start(); the older one did in createService.
  if (typeof service.start === 'function') await service.start();
  return service;
}

/** One body through the pipeline; returns the events acknowledged, or a refusal to wait out. */
async function ingest(service, text) {
  const body = JSON.parse(text);
  const answer = await service.pipeline.ingest({ batch: body.batch, metadata: body.metadata, headers: { 'content-type': 'application/json' } });
  // Old pipeline: an HTTP-like { status }; issue-7 pipeline: { kind: 'accepted' | 'refused' } with a
  // body; issue-14 pipeline: the accepted events (the receiver writes the body).
  if (answer.status === 503 || answer.kind === 'refused' || answer.kind === 'store_failed') return { refused: true, retryAfterSeconds: answer.retryAfterSeconds ?? 1 };
  const successes = answer.body?.successes ?? (answer.accepted ?? []).map((e) => ({ id: e.id, status: 201 }));
  JSON.stringify(answer.body ?? { successes, errors: answer.rejected ?? [] });
  return { refused: false, acknowledged: successes.length };
}

const service = await openService();
const stream = createBodyStream();
process.stdout.write(`${JSON.stringify({ started: true })}\n`);
const t0 = performance.now();
let accepted = 0;
let refused = 0;
for (let made = 0; made < events; ) {
  const size = Math.min(batch, events - made);
  const text = stream.next(size);
  made += size;
  for (;;) {
    const outcome = await ingest(service, text);
    if (!outcome.refused) {
      accepted += outcome.acknowledged;
      break;
    }
    refused++;
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, outcome.retryAfterSeconds * 1000)));
  }
  // Let the export worker and sockets run between bodies, as they would between requests.
  await new Promise((resolve) => setImmediate(resolve));
}
process.stdout.write(`${JSON.stringify({ accepted, refused, ingestMillis: performance.now() - t0 })}\n`);
setInterval(() => {}, 60_000);
