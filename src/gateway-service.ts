// Composition root of the gateway mode (BRIDGE_KAFKA_BROKERS): the receiver appends to the Kafka
// topic through the pipeline's shared log; per destination, this replica's consumer (in the
// destination's own group) assembles the partitions it owns and feeds the same mapping stage,
// encoders and export workers as the embedded mode, on that destination's delivery queue in
// memory. No env, no listen, no exit: main.ts does those.
import { Assembler } from './assembly/assembler.js';
import { sleepOn, systemClock } from './clock.js';
import type { ServiceConfig } from './config/service-config.js';
import { createExportedMarkers } from './gateway/exported-markers.js';
import { createGatewayConsumer } from './gateway/gateway-consumer.js';
import { createKafka, ensureTopics } from './gateway/kafka-client.js';
import { createKafkaDeadLetters } from './gateway/kafka-dead-letters.js';
import { createKafkaRequestLog } from './gateway/kafka-request-log.js';
import type { SpanDraft } from './mapping/span-draft.js';
import { createMetrics } from './metrics.js';
import { createIngestPipeline } from './pipeline/ingest-pipeline.js';
import { createDestinations, createExportWorkers, createGenAiRecorder, createServiceApp, settlesWithin, type Service, type ServiceDeps } from './service.js';
import { createMemoryStore } from './spool/memory-store.js';

export function createGatewayService(config: ServiceConfig, deps: ServiceDeps): Service {
  const kafkaConfig = config.kafka;
  if (!kafkaConfig) throw new Error('createGatewayService needs config.kafka');
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics ?? false });
  const { destinations, pipelineDestinations } = createDestinations(config, {
    writeConsole: deps.writeConsole ?? ((text) => void process.stdout.write(text)),
    ...(deps.sink ? { sink: deps.sink } : {}),
  });
  const kafka = createKafka(kafkaConfig, logger);
  const requestLog = createKafkaRequestLog(kafka, kafkaConfig, logger);
  const markers = createExportedMarkers(kafka, kafkaConfig.exportedTopic, kafkaConfig.group, logger, kafkaConfig.maxMarkers);
  const deadLetters = createKafkaDeadLetters(kafka, kafkaConfig.deadLetterTopic, logger);
  const recorder = createGenAiRecorder(config, logger);
  // One consumer (own group, queue, pause state, commits, markers) and its workers per destination:
  // a dead destination holds back only its own consumer (issue 15, scope 4).
  const consumers = destinations.map((destination) => {
    const queues = new Set(destination.lanes.map((lane) => lane.queue));
    const lanes = pipelineDestinations.filter((p) => queues.has(p.name));
    let laneWorkers: ReturnType<typeof createExportWorkers> = [];
    const consumer = createGatewayConsumer({
      kafka,
      config: kafkaConfig,
      markers,
      deadLetters,
      destination: destination.name,
      destinations: lanes,
      onQueued: () => {
        for (const worker of laneWorkers) worker.wake();
      },
      ...(recorder ? { onDraftsQueued: (drafts: readonly SpanDraft[]) => recorder.record(drafts) } : {}),
      metrics,
      logger,
      clock,
      traceIdleMillis: config.traceIdleMillis,
      observationTimeoutMillis: config.observationTimeoutMillis,
      memoryLimitBytes: config.memoryLimitBytes,
      ...(deps.tickMillis !== undefined ? { tickMillis: deps.tickMillis } : {}),
    });
    laneWorkers = createExportWorkers(config, { ...deps, clock, metrics, queue: consumer.queue, destinations: [destination] });
    return { consumer, workers: laneWorkers };
  });
  const workers = consumers.flatMap((c) => c.workers);
  const wake = () => {
    for (const worker of workers) worker.wake();
  };
  // This process keeps no log of its own in gateway mode: the pipeline's store and assembler stay
  // empty (the shared log takes every request; the consumer assembles).
  const store = createMemoryStore();
  const pipeline = createIngestPipeline({
    log: store.log,
    queue: store.queue,
    assembler: new Assembler({ traceIdleMillis: config.traceIdleMillis, observationTimeoutMillis: config.observationTimeoutMillis, exportedEnvelopeIds: () => undefined, readEvents: () => [] }),
    destinations: pipelineDestinations,
    onQueued: wake,
    metrics,
    logger,
    clock,
    spoolMaxBytes: config.spoolMaxBytes,
    memoryLimitBytes: config.memoryLimitBytes,
    traceIdleMillis: config.traceIdleMillis,
    sharedLog: requestLog,
  });
  metrics.observe({
    pendingEntities: () => consumers.reduce((n, c) => n + c.consumer.pendingEntities(), 0),
    queuedSpans: () => consumers.reduce((n, c) => n + c.consumer.queue.queuedItems(), 0),
    kafkaMarkers: () => markers.size(),
  });
  const app = createServiceApp(config, { pipeline, metrics, logger, clock });
  let started: Promise<number> | undefined;
  let stopping: Promise<boolean> | undefined;
  let cancelPrune: (() => void) | undefined;
  let evictedReported = 0;
  const prune = () => {
    markers.prune(clock.now() - config.tombstoneRetentionMillis);
    // Evictions at the cap: counted and said once per interval.
    const evicted = markers.evicted() - evictedReported;
    if (evicted > 0) {
      evictedReported += evicted;
      metrics.kafkaMarkersEvicted.inc(evicted);
      logger.warn({ evicted, held: markers.size(), maxMarkers: kafkaConfig.maxMarkers }, 'exported-entity markers were evicted at BRIDGE_KAFKA_MAX_MARKERS (oldest first): a late update for such an entity is exported as its own span');
    }
    cancelPrune = clock.setTimer(prune, 60_000);
  };
  return {
    app,
    pipeline,
    workers,
    store,
    metrics,
    wake,
    start() {
      started ??= (async () => {
        await pipeline.start();
        // A broker not reachable yet (both started together): try again until it is, or until shutdown.
        for (let attempt = 1; ; attempt++) {
          const admin = kafka.admin({ retry: { retries: 0 } });
          try {
            await admin.connect();
            const partitions = await ensureTopics(admin, kafkaConfig, config.tombstoneRetentionMillis);
            logger.info({ topic: kafkaConfig.topic, partitions, groups: consumers.map((c) => c.consumer.groupId) }, 'gateway mode: the log is the Kafka topic');
            break;
          } catch (error) {
            if (stopping) throw error;
            logger.warn({ err: error, attempt }, 'the Kafka broker is not reachable yet; trying again in 2 s');
            await sleepOn(clock, 2000);
          } finally {
            await admin.disconnect().catch(() => undefined);
          }
        }
        // The producer also connects on the first request: a broker gone again now is the receiver's 503, not a failed start.
        await requestLog.start().catch((error: unknown) => logger.warn({ err: error }, 'the Kafka producer could not connect yet'));
        await markers.start();
        await deadLetters.start();
        for (const worker of workers) worker.start();
        await Promise.all(consumers.map((c) => c.consumer.start()));
        cancelPrune = clock.setTimer(prune, 60_000);
        return 0;
      })();
      return started;
    },
    shutdown(options = {}) {
      stopping ??= (async () => {
        const deadlineMillis = clock.now() + config.shutdownTimeoutMillis;
        // Refuses new requests now; the ones in flight finish (their records are acknowledged or not).
        await pipeline.shutdown(deadlineMillis, options.requestsDone);
        await started?.catch(() => 0);
        cancelPrune?.();
        await requestLog.shutdown();
        let drained = true;
        // What each destination acknowledged is marked and committed in its group; the rest stays
        // in the topic past its committed offsets: the next owner's.
        await Promise.all(
          consumers.map((c) =>
            c.consumer.shutdown(deadlineMillis, async () => {
              const results = await Promise.all(c.workers.map((worker) => worker.shutdown(deadlineMillis)));
              if (!results.every(Boolean)) drained = false;
              return results.every(Boolean);
            }),
          ),
        );
        await Promise.all(destinations.map((d) => settlesWithin(clock, d.shutdown(), Math.max(0, deadlineMillis - clock.now()))));
        if (recorder) {
          const flushed = recorder.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not send the last GenAI metrics'));
          await settlesWithin(clock, flushed, Math.max(0, deadlineMillis - clock.now()));
        }
        await markers.shutdown();
        await deadLetters.shutdown();
        store.close();
        return drained;
      })();
      return stopping;
    },
  };
}
