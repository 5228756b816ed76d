// Composition root: builds the pipeline from a resolved ServiceConfig. No env, no listen, no exit:
// main.ts does those. Tests build services here with their own sink, spool and clock.
import path from 'node:path';
import { Assembler } from './assembly/assembler.js';
import { systemClock, type Clock } from './clock.js';
import type { ServiceConfig } from './config/service-config.js';
import { createServiceDestinations, type Destination } from './export/destination.js';
import { createGenAiMetricsRecorder } from './export/genai-metrics.js';
import type { SpanSink } from './export/span-sink.js';
import { compileDestinationMappings } from './mapping/destination-mappings.js';
import type { Logger } from './logger.js';
import { createMetrics, type BridgeMetrics } from './metrics.js';
import { createExportWorker, type ExportQueueView, type ExportWorker } from './pipeline/export-worker.js';
import { createIngestPipeline, type IngestPipeline, type MemoryReading } from './pipeline/ingest-pipeline.js';
import { scoresQueueOf, type PipelineDestination } from './pipeline/map-record.js';
import { createApp } from './receiver/app.js';
import { createDiskReserve } from './spool/disk-reserve.js';
import { guardStore } from './spool/full-disk-guard.js';
import { createMemoryStore } from './spool/memory-store.js';
import { createSpaceReclaimer, type OpenStoreOptions } from './spool/open-database.js';
import { openSqliteStore } from './spool/sqlite-store.js';
import { pendingBytes, type Store } from './spool/store.js';
import { BRIDGE_VERSION } from './version.js';

export interface ServiceDeps {
  logger: Logger;
  /** Replaces the sink of the first destination, in each of its lanes (tests). */
  sink?: SpanSink;
  /** Where console destinations print (default: stdout). */
  writeConsole?: (text: string) => void;
  /** Replaces the store chosen by config (tests). */
  store?: Store;
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
  store: Store;
  metrics: BridgeMetrics;
  /**
   * Replays the store (health answers meanwhile; ready and ingestion wait for it), then starts
   * the timers and export workers. Resolves with the entries replayed.
   */
  start(): Promise<number>;
  /** Asks every worker to look at the queue now. */
  wake(): void;
  /**
   * The one way to stop: refuses new batches at once; once `requestsDone` (the requests in flight)
   * settled, queues what is complete, exports what it can within BRIDGE_SHUTDOWN_TIMEOUT_MS of
   * this call, stops every background task and closes the store. With a store that does not
   * survive the process, everything is exported, complete or not. Resolves true when nothing was
   * left behind. Calling it again returns the same answer.
   */
  shutdown(options?: { requestsDone?: Promise<unknown> }): Promise<boolean>;
}

export function openStore(config: ServiceConfig, options: OpenStoreOptions = {}): Store {
  return config.store === 'memory'
    ? createMemoryStore()
    : openSqliteStore(config.dataDir, { tombstoneRetentionMillis: config.tombstoneRetentionMillis, onCorrupt: config.storeOnCorrupt, ...options });
}

/**
 * Every destination, built once at start: its export side (export/) and, as the pipeline takes
 * it, its compiled mapping (mapping/) beside its encoders. Throws MappingError listing the mapping
 * problems of all destinations.
 */
export function createDestinations(
  config: Pick<ServiceConfig, 'destinations' | 'serviceName' | 'resourceAttributes' | 'estimateCost'> & Partial<Pick<ServiceConfig, 'tenancy'>>,
  options: { writeConsole: (text: string) => void; sink?: SpanSink; cwd?: string },
): { destinations: Destination[]; pipelineDestinations: PipelineDestination[] } {
  const mappings = compileDestinationMappings(config.destinations, { estimateCost: config.estimateCost, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  const destinations = createServiceDestinations(config, { bridgeVersion: BRIDGE_VERSION, writeConsole: options.writeConsole });
  const testSink = options.sink;
  if (testSink && destinations[0]) destinations[0] = { ...destinations[0], lanes: destinations[0].lanes.map((lane) => ({ ...lane, sink: testSink })) };
  // One pipeline destination per lane (per tenant with a tenants list), each with its own queue.
  const pipelineDestinations = destinations.flatMap((d, index) =>
    d.lanes.map(
      (lane): PipelineDestination => ({
        name: lane.queue,
        ...(lane.scopedTo !== undefined ? { scopedTo: lane.scopedTo } : {}),
        feedsMetrics: index === 0,
        mapping: mappings[index]!,
        // Bound, not wrapped: the data path goes from the pipeline straight into the sink's encoder.
        encodeSpan: lane.sink.encode.bind(lane.sink),
        ...(lane.scores ? { encodeScore: lane.scores.encode } : {}),
      }),
    ),
  );
  return { destinations, pipelineDestinations };
}

export function createService(config: ServiceConfig, deps: ServiceDeps): Service {
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const { destinations, pipelineDestinations } = createDestinations(config, {
    writeConsole: deps.writeConsole ?? ((text) => void process.stdout.write(text)),
    ...(deps.sink ? { sink: deps.sink } : {}),
  });
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics ?? false });
  const onSetAside: OpenStoreOptions['onSetAside'] = (report) => {
    metrics.damagedStoresSetAside.inc();
    logger.error(report, 'DAMAGED STORE SET ASIDE: the store file was moved aside and an empty one created; the events it held are not exported');
  };
  // The full-disk policy (reserve file, ready 503) for the SQLite store. Exports are sent even when
  // the store cannot record them (the export worker keeps those records in memory).
  const storeSpace = !deps.store && config.store === 'sqlite' ? createSpaceReclaimer(path.join(config.dataDir, 'bridge.sqlite')) : undefined;
  const baseStore = deps.store ?? openStore(config, { onSetAside });
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
  const store = reserve ? guardStore(baseStore, reserve) : baseStore;
  const { log, queue, exported } = store;
  const assembler = new Assembler({
    traceIdleMillis: config.traceIdleMillis,
    observationTimeoutMillis: config.observationTimeoutMillis,
    // The ports' own methods: assembly reads the log and the exported record without a hop back here.
    exportedEnvelopeIds: exported.exportedEnvelopeIds.bind(exported),
    readEvents: log.readEvents.bind(log),
  });
  const workers = createExportWorkers(config, { ...deps, clock, metrics, queue, destinations });
  const wake = () => {
    for (const worker of workers) worker.wake();
  };
  const recorder = createGenAiRecorder(config, logger);
  const pipeline = createIngestPipeline({
    log,
    queue,
    assembler,
    destinations: pipelineDestinations,
    onQueued: wake,
    ...(recorder ? { onDraftsQueued: recorder.record.bind(recorder) } : {}),
    metrics,
    logger,
    clock,
    spoolMaxBytes: config.spoolMaxBytes,
    memoryLimitBytes: config.memoryLimitBytes,
    ...(deps.memory ? { memory: deps.memory } : {}),
    ...(reserve ? { storeWritable: () => reserve.unwritableReason() === undefined } : {}),
    ...(deps.tickMillis !== undefined ? { tickMillis: deps.tickMillis } : {}),
    traceIdleMillis: config.traceIdleMillis,
  });
  metrics.observe({
    spoolEntries: () => log.pendingEntries(),
    spoolBytes: () => pendingBytes(store),
    pendingEntities: () => assembler.pendingEntities(),
    openObservations: () => assembler.openObservations(),
    queuedSpans: () => queue.queuedItems(),
    deadLetters: () => queue.deadLetterCount(),
    storeWritable: () => (reserve?.unwritableReason() ? 0 : 1),
  });
  // Old tombstones go once a minute, off the request path.
  let cancelPrune: (() => void) | undefined;
  const prune = () => {
    try {
      exported.prune(clock.now() - config.tombstoneRetentionMillis);
    } catch (error) {
      // A store that cannot write now (disk full) must not end the process from a timer: next minute.
      logger.warn({ err: error }, 'could not prune old tombstones; will retry');
    }
    cancelPrune = clock.setTimer(prune, 60_000);
  };
  const app = createServiceApp(config, { pipeline, metrics, logger, clock });
  let started: Promise<number> | undefined;
  let stopping: Promise<boolean> | undefined;
  return {
    app,
    pipeline,
    workers,
    store,
    metrics,
    wake,
    start() {
      started ??= (async () => {
        reserve?.start();
        await store.warmUp();
        const replayed = await pipeline.start();
        if (replayed > 0) logger.info({ entries: replayed, pendingEntities: assembler.pendingEntities(), queuedSpans: queue.queuedItems() }, 'resumed from the store');
        for (const worker of workers) worker.start();
        cancelPrune = clock.setTimer(prune, 60_000);
        return replayed;
      })();
      return started;
    },
    shutdown(options = {}) {
      stopping ??= (async () => {
        const deadlineMillis = clock.now() + config.shutdownTimeoutMillis;
        // Refuses new batches now; queues what is complete once the requests in flight are done.
        const pipelineDone = pipeline.shutdown(deadlineMillis, options.requestsDone);
        await started?.catch(() => 0);
        cancelPrune?.();
        let complete = await pipelineDone;
        const drained = await Promise.all(workers.map((worker) => worker.shutdown(deadlineMillis)));
        complete = complete && drained.every(Boolean) && assembler.pendingEntities() === 0;
        // A sink waits for attempts in flight; one the drain gave up on must not hold the exit past
        // the deadline (its spans are still queued).
        await Promise.all(destinations.map((d) => settlesWithin(clock, d.shutdown(), Math.max(0, deadlineMillis - clock.now()))));
        // The metrics exporter retries on its own: its last flush gets what is left of the deadline.
        if (recorder) {
          const flushed = recorder.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not send the last GenAI metrics'));
          await settlesWithin(clock, flushed, Math.max(0, deadlineMillis - clock.now()));
        }
        store.close();
        reserve?.shutdown();
        storeSpace?.close();
        return complete;
      })();
      return stopping;
    },
  };
}

/**
 * One export worker per destination, plus one per Langfuse destination's scores API, on the export
 * queue given (the store's, or the gateway's in memory).
 */
export function createExportWorkers(
  config: ServiceConfig,
  deps: Pick<ServiceDeps, 'logger' | 'initialBackoffMillis' | 'maxBackoffMillis' | 'exportLingerMillis'> & {
    clock: Clock;
    metrics: BridgeMetrics;
    queue: ExportQueueView;
    destinations: Destination[];
  },
): ExportWorker[] {
  const { logger, clock, metrics, queue, destinations } = deps;
  // One queue and worker per destination lane (per tenant with a tenants list), plus one for a
  // Langfuse lane's scores API.
  const queues = destinations.flatMap((d) =>
    d.lanes.flatMap((lane) => [
      { queue: lane.queue, sink: lane.sink, destination: d.name, tenant: lane.tenant, items: 'spans' as const },
      ...(lane.scores
        ? [{ queue: scoresQueueOf(lane.queue), sink: lane.scores.sink, destination: d.name, tenant: lane.tenant, items: 'scores' as const }]
        : []),
    ]),
  );
  const unreachableHints = new Map(config.destinations.map((d) => [d.name, d.type === 'console' ? undefined : d.unreachableHint]));
  const workers = queues.map((q) =>
    createExportWorker({
      destination: q.queue,
      metricsDestination: q.destination,
      tenant: q.tenant,
      items: q.items,
      sink: q.sink,
      queue,
      metrics,
      logger,
      clock,
      batchSize: config.exportBatchSize,
      lingerMillis: deps.exportLingerMillis ?? config.exportLingerMillis,
      failureSummaryMillis: config.exportFailureSummaryMillis,
      ...(unreachableHints.get(q.destination) !== undefined ? { connectHint: unreachableHints.get(q.destination)! } : {}),
      ...(deps.initialBackoffMillis !== undefined ? { initialBackoffMillis: deps.initialBackoffMillis } : {}),
      ...(deps.maxBackoffMillis !== undefined ? { maxBackoffMillis: deps.maxBackoffMillis } : {}),
    }),
  );
  return workers;
}

/**
 * GenAI metrics are derived once per span, from the first destination's drafts, when they are
 * queued (the queue then delivers them at least once); recorded after the commit succeeded.
 */
export function createGenAiRecorder(config: ServiceConfig, logger: Logger): ReturnType<typeof createGenAiMetricsRecorder> | undefined {
  return config.metrics.enabled
    ? createGenAiMetricsRecorder({
        ...config.metrics,
        resourceAttributes: config.resourceAttributes,
        ...(config.serviceName ? { serviceNameOverride: config.serviceName } : {}),
        bridgeVersion: BRIDGE_VERSION,
        onExportFailure: (reason) =>
          logger.warn({ destination: 'metrics', url: config.metrics.url, reason }, 'GenAI metrics export failed; the next interval tries again (said again only when the reason changes)'),
      })
    : undefined;
}

/** Waits for `promise` at most `millis` on `clock`. */
export function settlesWithin(clock: Clock, promise: Promise<unknown>, millis: number): Promise<void> {
  return new Promise((resolve) => {
    const cancel = clock.setTimer(resolve, millis);
    const done = () => {
      cancel();
      resolve();
    };
    promise.then(done, done);
  });
}

/** The HTTP app over a pipeline, with the config's limits and tenancy (both modes answer alike). */
export function createServiceApp(
  config: ServiceConfig,
  parts: { pipeline: IngestPipeline; metrics: BridgeMetrics; logger: Logger; clock: Clock },
): ReturnType<typeof createApp> {
  return createApp({
    pipeline: parts.pipeline,
    metrics: parts.metrics,
    logger: parts.logger,
    version: BRIDGE_VERSION,
    tenancy: config.tenancy,
    now: () => parts.clock.now(),
    maxBodyBytes: config.maxBodyBytes,
    maxEventsPerRequest: config.maxEventsPerRequest,
    maxErrorsPerResponse: config.maxErrorsPerResponse,
  });
}
