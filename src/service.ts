// Composition root: builds the pipeline from a resolved ServiceConfig. No env, no listen, no exit:
// main.ts does those. Tests build services here with their own sink, spool and clock.
import path from 'node:path';
import type express from 'express';
import { Assembler } from './assembly/assembler.js';
import type { ServiceConfig } from './config/service-config.js';
import { createOtlpSpanSink, type SpanSink } from './export/span-sink.js';
import type { Logger } from './logger.js';
import { compileMapping } from './mapping/compile-mapping.js';
import { loadMapping } from './mapping/load-mapping.js';
import { createMetrics, type BridgeMetrics } from './metrics.js';
import { startExportWorker, type ExportWorker } from './pipeline/export-worker.js';
import { createIngestPipeline, type IngestPipeline } from './pipeline/ingest-pipeline.js';
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
  /** Replaces the OTLP sink (tests). */
  sink?: SpanSink;
  /** Replaces the store chosen by config (tests). */
  spool?: Spool;
  now?: () => number;
  /** Export worker timing (tests shorten it). */
  exportTickMillis?: number;
  initialBackoffMillis?: number;
  maxBackoffMillis?: number;
  defaultMetrics?: boolean;
}

export interface Service {
  app: express.Express;
  pipeline: IngestPipeline;
  worker: ExportWorker;
  spool: Spool;
  metrics: BridgeMetrics;
  /** Entries replayed from the store at start. */
  replayed: number;
  /**
   * Stops taking batches, exports what it can before the deadline and closes the store. With a
   * store that does not survive the process, everything is exported, complete or not.
   * Resolves true when nothing was left behind.
   */
  shutdown(): Promise<boolean>;
}

export function createSpanSink(config: ServiceConfig): SpanSink {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return createOtlpSpanSink({
    protocol: config.otlp.protocol,
    url: config.otlp.url,
    headers: config.otlp.headers,
    timeoutMillis: config.otlp.timeoutMillis,
    compression: config.otlp.compression,
    resourceAttributes: config.resourceAttributes,
    // OTel's order: OTEL_SERVICE_NAME, then a service.name in OTEL_RESOURCE_ATTRIBUTES, then ours.
    ...(serviceName ? { serviceNameOverride: serviceName } : {}),
    ...(config.attributeValueLengthLimit !== undefined ? { attributeValueLengthLimit: config.attributeValueLengthLimit } : {}),
    bridgeVersion: BRIDGE_VERSION,
  });
}

export function openSpool(config: ServiceConfig, options: OpenStoreOptions = {}): Spool {
  return config.store === 'memory' ? createMemorySpool() : openSqliteSpool(config.dataDir, { onCorrupt: config.storeOnCorrupt, ...options });
}

export function createService(config: ServiceConfig, deps: ServiceDeps): Service {
  const { logger } = deps;
  const now = deps.now ?? Date.now;
  const mapping = compileMapping(loadMapping(config.mapping), { captureContent: config.captureContent });
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics ?? false });
  const onQuarantine: OpenStoreOptions['onQuarantine'] = (report) => {
    metrics.storeQuarantined.inc();
    logger.error(report, 'STORE QUARANTINED: the damaged store was moved aside and an empty one created; the events it held are not exported');
  };
  // The full-disk policy (DESIGN: reserve file, ready 503, no export that cannot be recorded) for the SQLite store.
  const storeSpace = !deps.spool && config.store === 'sqlite' ? createSpaceReclaimer(path.join(config.dataDir, 'bridge.sqlite')) : undefined;
  const baseSpool = deps.spool ?? openSpool(config, { onQuarantine });
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
  const sink = reserve ? gateSinkOnStore(deps.sink ?? createSpanSink(config), reserve.canRecordExports) : (deps.sink ?? createSpanSink(config));
  const assembler = new Assembler({
    mapping,
    traceIdleMillis: config.traceIdleMillis,
    observationTimeoutMillis: config.observationTimeoutMillis,
    exportedEnvelopeIds: (key) => spool.getTombstone(key),
  });
  const worker = startExportWorker({
    assembler,
    sink,
    spool,
    metrics,
    logger,
    batchSize: config.exportBatchSize,
    tombstoneRetentionMillis: config.tombstoneRetentionMillis,
    drainSettleMillis: config.traceIdleMillis,
    now,
    ...(deps.exportTickMillis !== undefined ? { tickMillis: deps.exportTickMillis } : {}),
    ...(deps.initialBackoffMillis !== undefined ? { initialBackoffMillis: deps.initialBackoffMillis } : {}),
    ...(deps.maxBackoffMillis !== undefined ? { maxBackoffMillis: deps.maxBackoffMillis } : {}),
  });
  const pipeline = createIngestPipeline({ spool, assembler, worker, metrics, logger, spoolMaxBytes: config.spoolMaxBytes, now });
  metrics.observe({
    spoolEntries: () => spool.pendingEntries(),
    spoolBytes: () => spool.pendingBytes(),
    pendingEntities: () => assembler.pendingEntities(),
    deadLetters: () => spool.listDeadLetters().length,
    storeWritable: () => (reserve?.unwritableReason() ? 0 : 1),
  });
  const replayed = pipeline.replay();
  if (replayed > 0) {
    logger.info({ entries: replayed, pendingEntities: assembler.pendingEntities() }, 'resumed from the store');
    worker.wake();
  }
  const app = createApp({
    pipeline,
    metrics,
    logger,
    version: BRIDGE_VERSION,
    auth: config.auth,
    maxBodyBytes: config.maxBodyBytes,
    maxEventsPerRequest: config.maxEventsPerRequest,
    maxErrorsPerResponse: config.maxErrorsPerResponse,
    ...(reserve ? { storeUnwritableReason: reserve.unwritableReason } : {}),
  });
  return {
    app,
    pipeline,
    worker,
    spool,
    metrics,
    replayed,
    async shutdown() {
      pipeline.beginShutdown();
      const deadlineMillis = now() + config.shutdownTimeoutMillis;
      const complete = await worker.drain(deadlineMillis, !spool.durable);
      // The sink waits for attempts in flight; one the drain gave up on must not hold the exit
      // past the deadline (its spans are still in the store).
      await settlesWithin(sink.shutdown(), Math.max(0, deadlineMillis - now()));
      spool.close();
      reserve?.close();
      storeSpace?.close();
      return complete;
    },
  };
}

/** Waits for `promise` at most `millis`; the timer does not keep the process alive. */
function settlesWithin(promise: Promise<unknown>, millis: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, millis);
    timer.unref();
    void promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      () => {
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
