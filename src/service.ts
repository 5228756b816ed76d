// Composition root: builds the pipeline from a resolved ServiceConfig. No env, no listen, no exit:
// main.ts does those. Tests build services here with their own sink, spool and clock.
import path from 'node:path';
import { Assembler } from './assembly/assembler.js';
import { sleepOn, systemClock, type Clock } from './clock.js';
import type { ServiceConfig } from './config/service-config.js';
import { createServiceDestinations, laneFor, scoresQueueOf, tenantOfRecord, toDestinationItem } from './export/destination.js';
import type { LangfuseScorePayload, ScoreForwarder } from './export/langfuse-scores.js';
import { createGenAiMetricsRecorder } from './export/genai-metrics.js';
import type { SpanSink } from './export/span-sink.js';
import type { SpanDraft } from './mapping/span-draft.js';
import type { Logger } from './logger.js';
import { createMetrics, type BridgeMetrics } from './metrics.js';
import { createExportWorker, type ExportWorker } from './pipeline/export-worker.js';
import { createIngestPipeline, type IngestPipeline, type MemoryReading, type PipelineDestination } from './pipeline/ingest-pipeline.js';
import { gateSinkOnStore } from './pipeline/store-gated-sink.js';
import { createApp } from './receiver/app.js';
import { createDiskReserve } from './spool/disk-reserve.js';
import { guardStoreWrites } from './spool/full-disk-guard.js';
import { createMemorySpool } from './spool/memory-spool.js';
import { createSpaceReclaimer, type OpenStoreOptions } from './spool/open-database.js';
import type { Spool } from './spool/spool.js';
import { openSqliteSpool } from './spool/sqlite-spool.js';
import { BRIDGE_VERSION } from './version.js';

export interface ServiceDeps {
  logger: Logger;
  /** Replaces the sink of the first destination, in each of its lanes (tests). */
  sink?: SpanSink;
  /** Where console destinations print (default: stdout). */
  writeConsole?: (text: string) => void;
  /** Replaces the store chosen by config (tests). */
  spool?: Spool;
  clock?: Clock;
  /** Memory in use (tests pin it to drive the memory budget). */
  memory?: () => MemoryReading;
  /** How often waiting work is looked at (tests shorten it). */
  tickMillis?: number;
  initialBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** Replaces BRIDGE_EXPORT_LINGER_MS (tests driving a manual clock set 0). */
  exportLingerMillis?: number;
  defaultMetrics?: boolean;
}

export interface Service {
  app: ReturnType<typeof createApp>;
  pipeline: IngestPipeline;
  workers: ExportWorker[];
  spool: Spool;
  metrics: BridgeMetrics;
  /**
   * Replays the store (health answers meanwhile; ready and ingestion wait for it), then starts
   * the timers and export workers. Resolves with the entries replayed.
   */
  start(): Promise<number>;
  /** Asks every worker to look at the queue now. */
  wake(): void;
  /**
   * Stops taking batches, queues what is complete, exports what it can before the deadline and
   * closes the store. With a store that does not survive the process, everything is exported,
   * complete or not. Resolves true when nothing was left behind.
   */
  shutdown(): Promise<boolean>;
}

export function openSpool(config: ServiceConfig, options: OpenStoreOptions = {}): Spool {
  return config.store === 'memory'
    ? createMemorySpool()
    : openSqliteSpool(config.dataDir, { tombstoneRetentionMillis: config.tombstoneRetentionMillis, onCorrupt: config.storeOnCorrupt, ...options });
}

export function createService(config: ServiceConfig, deps: ServiceDeps): Service {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const destinations = createServiceDestinations(config, { bridgeVersion: BRIDGE_VERSION, writeConsole: deps.writeConsole ?? ((text) => void process.stdout.write(text)) });
  const testSink = deps.sink;
  if (testSink && destinations[0]) destinations[0] = { ...destinations[0], lanes: destinations[0].lanes.map((lane) => ({ ...lane, sink: testSink })) };
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics ?? false });
  const onSetAside: OpenStoreOptions['onSetAside'] = (report) => {
    metrics.damagedStoresSetAside.inc();
    logger.error(report, 'DAMAGED STORE SET ASIDE: the store file was moved aside and an empty one created; the events it held are not exported');
  };
  // The full-disk policy (reserve file, ready 503, no send that cannot be dequeued) for the SQLite store.
  const storeSpace = !deps.spool && config.store === 'sqlite' ? createSpaceReclaimer(path.join(config.dataDir, 'bridge.sqlite')) : undefined;
  const baseSpool = deps.spool ?? openSpool(config, { onSetAside });
  const reserve = storeSpace
    ? createDiskReserve({
        dataDir: config.dataDir,
        reserveBytes: config.storeReserveBytes,
        logger,
        reusableBytes: storeSpace.reusableBytes,
        reclaim: storeSpace.reclaim,
        onChange: (full) => (full ? metrics.storeDiskFull.inc() : undefined),
      })
    : undefined;
  const spool = reserve ? guardStoreWrites(baseSpool, reserve) : baseSpool;
  // Each destination's worker sends only while a send can be recorded (dequeued) afterwards.
  const gated = (sink: SpanSink): SpanSink => (reserve ? gateSinkOnStore(sink, reserve.canRecordExports) : sink);
  const assembler = new Assembler({
    traceIdleMillis: config.traceIdleMillis,
    observationTimeoutMillis: config.observationTimeoutMillis,
    exportedEnvelopeIds: (key) => spool.getTombstone(key),
    readEntries: (seqs) => spool.readEntries(seqs),
  });
  // One queue and worker per destination lane (per tenant with a tenants list), plus one for a
  // Langfuse lane's scores API.
  const queues = destinations.flatMap((d) =>
    d.lanes.flatMap((lane) => [
      { queue: lane.queue, sink: gated(lane.sink), destination: d.name, tenant: lane.tenant, items: 'spans' as const },
      ...(lane.scores
        ? [{ queue: scoresQueueOf(lane), sink: gated(scoreSink(lane.scores)), destination: d.name, tenant: lane.tenant, items: 'scores' as const }]
        : []),
    ]),
  );
  const workers = queues.map((q) =>
    createExportWorker({
      destination: q.queue,
      metricsDestination: q.destination,
      tenant: q.tenant,
      items: q.items,
      sink: q.sink,
      spool,
      metrics,
      logger,
      clock,
      batchSize: config.exportBatchSize,
      lingerMillis: deps.exportLingerMillis ?? config.exportLingerMillis,
      ...(deps.initialBackoffMillis !== undefined ? { initialBackoffMillis: deps.initialBackoffMillis } : {}),
      ...(deps.maxBackoffMillis !== undefined ? { maxBackoffMillis: deps.maxBackoffMillis } : {}),
    }),
  );
  const wake = () => {
    for (const worker of workers) worker.wake();
  };
  // GenAI metrics are derived once per span, from the first destination's drafts, when they are
  // queued (the queue then delivers them at least once); recorded after the commit succeeded.
  const recorder = config.metrics.enabled ? createGenAiMetricsRecorder({
    ...config.metrics,
    resourceAttributes: config.resourceAttributes,
    ...(config.serviceName ? { serviceNameOverride: config.serviceName } : {}),
    bridgeVersion: BRIDGE_VERSION,
  }) : undefined;
  let metricDrafts: SpanDraft[] = [];
  const pipelineDestinations: PipelineDestination[] = destinations.map((d, index) => ({
    name: d.name,
    encodeRecord(record) {
      const lane = laneFor(d, tenantOfRecord(record));
      if (!lane) return undefined;
      const item = toDestinationItem(d, record, lane);
      if (item.kind === 'score') return { queue: scoresQueueOf(lane), payload: Buffer.from(JSON.stringify(item.score)) };
      if (recorder && index === 0) metricDrafts.push(item.draft);
      return { queue: lane.queue, payload: lane.sink.encode(item.draft) };
    },
  }));
  const onQueued = () => {
    if (recorder && metricDrafts.length > 0) recorder.record(metricDrafts);
    metricDrafts = [];
    wake();
  };
  const pipeline = createIngestPipeline({
    spool,
    assembler,
    destinations: pipelineDestinations,
    onQueued,
    metrics,
    logger,
    clock,
    spoolMaxBytes: config.spoolMaxBytes,
    memoryLimitBytes: config.memoryLimitBytes,
    ...(deps.memory ? { memory: deps.memory } : {}),
    ...(reserve ? { storeWritable: () => reserve.unwritableReason() === undefined } : {}),
    ...(deps.tickMillis !== undefined ? { tickMillis: deps.tickMillis } : {}),
  });
  metrics.observe({
    spoolEntries: () => spool.pendingEntries(),
    spoolBytes: () => spool.pendingBytes(),
    pendingEntities: () => assembler.pendingEntities(),
    openObservations: () => assembler.openObservations(),
    queuedSpans: () => spool.queuedSpans(),
    deadLetters: () => spool.deadLetterCount(),
    storeWritable: () => (reserve?.unwritableReason() ? 0 : 1),
  });
  // Old tombstones go once a minute, off the request path.
  let cancelPrune: (() => void) | undefined;
  const prune = () => {
    try {
      spool.pruneTombstones(clock.now() - config.tombstoneRetentionMillis);
    } catch (error) {
      // A store that cannot write now (disk full) must not end the process from a timer: next minute.
      logger.warn({ err: error }, 'could not prune old tombstones; will retry');
    }
    cancelPrune = clock.setTimer(prune, 60_000);
  };
  const app = createApp({
    pipeline,
    metrics,
    logger,
    version: BRIDGE_VERSION,
    tenancy: config.tenancy,
    now: () => clock.now(),
    maxBodyBytes: config.maxBodyBytes,
    maxEventsPerRequest: config.maxEventsPerRequest,
    maxErrorsPerResponse: config.maxErrorsPerResponse,
  });
  let started: Promise<number> | undefined;
  return {
    app,
    pipeline,
    workers,
    spool,
    metrics,
    wake,
    start() {
      started ??= (async () => {
        await spool.warmUp?.();
        const replayed = await pipeline.replay();
        if (replayed > 0) logger.info({ entries: replayed, pendingEntities: assembler.pendingEntities(), queuedSpans: spool.queuedSpans() }, 'resumed from the store');
        pipeline.start();
        for (const worker of workers) worker.start();
        cancelPrune = clock.setTimer(prune, 60_000);
        return replayed;
      })();
      return started;
    },
    async shutdown() {
      pipeline.beginShutdown();
      await started?.catch(() => 0);
      const deadlineMillis = clock.now() + config.shutdownTimeoutMillis;
      cancelPrune?.();
      // Complete traces may still be turning idle: no event arrives any more, so within the idle
      // time (and the deadline) every complete one is ready. A store that does not survive the
      // process exports everything, complete or not.
      let complete = true;
      try {
        if (!spool.durable) pipeline.flush('all');
        else await settleIdleTraces(pipeline, assembler, clock, Math.min(deadlineMillis, clock.now() + config.traceIdleMillis + 100));
      } catch (error) {
        complete = false;
        logger.error({ err: error }, 'could not queue the last complete spans; they stay in the log');
      }
      pipeline.stop();
      const drained = await Promise.all(workers.map((worker) => worker.drain(deadlineMillis)));
      complete = complete && drained.every(Boolean) && assembler.pendingEntities() === 0;
      // A sink waits for attempts in flight; one the drain gave up on must not hold the exit past
      // the deadline (its spans are still queued).
      await Promise.all(destinations.map((d) => settlesWithin(clock, d.shutdown(), Math.max(0, deadlineMillis - clock.now()))));
      // The metrics exporter retries on its own: its last flush gets what is left of the deadline.
      if (recorder) {
        const flushed = recorder.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not send the last GenAI metrics'));
        await settlesWithin(clock, flushed, Math.max(0, deadlineMillis - clock.now()));
      }
      spool.close();
      reserve?.close();
      storeSpace?.close();
      return complete;
    },
  };
}

/** Queued scores through a score forwarder: one call per score, in order; the first failure decides. */
function scoreSink(forwarder: ScoreForwarder): SpanSink {
  return {
    encode: () => {
      throw new Error('scores are encoded by the pipeline');
    },
    async send(payloads) {
      for (const payload of payloads) {
        // A resend after a partial failure upserts by id in Langfuse: at least once, never twice in effect.
        const outcome = await forwarder.send(JSON.parse(Buffer.from(payload).toString('utf8')) as LangfuseScorePayload);
        if (outcome.kind !== 'success') return outcome;
      }
      return { kind: 'success', rejectedSpans: 0 };
    },
    shutdown: () => forwarder.shutdown(),
  };
}

/** Queues what is due until nothing pending is complete-but-not-idle, or `untilMillis`. */
async function settleIdleTraces(pipeline: IngestPipeline, assembler: Assembler, clock: Clock, untilMillis: number): Promise<void> {
  for (;;) {
    pipeline.flush('due');
    if (assembler.settlingEntities() === 0) return;
    if (clock.now() >= untilMillis) return;
    await sleepOn(clock, Math.min(50, untilMillis - clock.now()));
  }
}

/** Waits for `promise` at most `millis` on `clock`. */
function settlesWithin(clock: Clock, promise: Promise<unknown>, millis: number): Promise<void> {
  return new Promise((resolve) => {
    const cancel = clock.setTimer(resolve, millis);
    const done = () => {
      cancel();
      resolve();
    };
    promise.then(done, done);
  });
}
