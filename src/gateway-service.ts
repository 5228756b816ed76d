// Composition root of the gateway mode (BRIDGE_KAFKA_BROKERS): the receiver appends to the Kafka
// topic through the pipeline's shared log; this replica's consumer assembles the partitions it
// owns and feeds the same mapping, encoding and export workers as the embedded mode, on an export
// queue in memory. No env, no listen, no exit: main.ts does those.
import { Assembler } from './assembly/assembler.js';
import { sleepOn, systemClock } from './clock.js';
import type { ServiceConfig } from './config/service-config.js';
import { createExportedMarkers } from './gateway/exported-markers.js';
import { createGatewayConsumer } from './gateway/gateway-consumer.js';
import { createKafka, ensureTopics } from './gateway/kafka-client.js';
import { createKafkaRequestLog } from './gateway/kafka-request-log.js';
import { createMetrics } from './metrics.js';
import { createIngestPipeline } from './pipeline/ingest-pipeline.js';
import { createApp } from './receiver/app.js';
import { createExportStages, serviceDestinations, settlesWithin, type Service, type ServiceDeps } from './service.js';
import { createMemorySpool } from './spool/memory-spool.js';
import { BRIDGE_VERSION } from './version.js';

export function createGatewayService(config: ServiceConfig, deps: ServiceDeps): Service {
  const kafkaConfig = config.kafka;
  if (!kafkaConfig) throw new Error('createGatewayService needs config.kafka');
  const { logger } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = createMetrics({ defaultMetrics: deps.defaultMetrics ?? false });
  const destinations = serviceDestinations(config, deps);
  const kafka = createKafka(kafkaConfig, logger);
  const requestLog = createKafkaRequestLog(kafka, kafkaConfig, logger);
  const markers = createExportedMarkers(kafka, kafkaConfig.exportedTopic, kafkaConfig.group, logger);
  // The consumer is built once the destinations' encoders exist; the workers read its queue.
  let consumer: ReturnType<typeof createGatewayConsumer> | undefined;
  const queueView = {
    peekQueue: (destination: string, afterId: number, limit: number) => consumer!.queue.peekQueue(destination, afterId, limit),
    dequeue: (ids: readonly number[]) => consumer!.queue.dequeue(ids),
    queuedSpans: (destination?: string) => consumer?.queue.queuedSpans(destination) ?? 0,
  };
  const stages = createExportStages(config, { ...deps, clock, metrics, queue: queueView, destinations });
  consumer = createGatewayConsumer({
    kafka,
    config: kafkaConfig,
    markers,
    destinations: stages.pipelineDestinations,
    onQueued: stages.onQueued,
    metrics,
    logger,
    clock,
    traceIdleMillis: config.traceIdleMillis,
    observationTimeoutMillis: config.observationTimeoutMillis,
    memoryLimitBytes: config.memoryLimitBytes,
    ...(deps.tickMillis !== undefined ? { tickMillis: deps.tickMillis } : {}),
  });
  const gateway = consumer;
  // This process keeps no log of its own in gateway mode: the pipeline's store and assembler stay
  // empty (the shared log takes every request; the consumer assembles).
  const spool = createMemorySpool();
  const pipeline = createIngestPipeline({
    spool,
    assembler: new Assembler({ traceIdleMillis: config.traceIdleMillis, observationTimeoutMillis: config.observationTimeoutMillis, exportedEnvelopeIds: () => undefined, readEntries: () => [] }),
    destinations: stages.pipelineDestinations,
    onQueued: stages.onQueued,
    metrics,
    logger,
    clock,
    spoolMaxBytes: config.spoolMaxBytes,
    memoryLimitBytes: config.memoryLimitBytes,
    sharedLog: requestLog,
  });
  metrics.observe({
    pendingEntities: () => gateway.pendingEntities(),
    queuedSpans: () => gateway.queue.queuedSpans(),
  });
  const app = createApp({
    pipeline,
    metrics,
    logger,
    version: BRIDGE_VERSION,
    auth: config.auth,
    maxBodyBytes: config.maxBodyBytes,
    maxEventsPerRequest: config.maxEventsPerRequest,
    maxErrorsPerResponse: config.maxErrorsPerResponse,
  });
  let started: Promise<number> | undefined;
  let stopping = false;
  let cancelPrune: (() => void) | undefined;
  const prune = () => {
    markers.prune(clock.now() - config.tombstoneRetentionMillis);
    cancelPrune = clock.setTimer(prune, 60_000);
  };
  return {
    app,
    pipeline,
    workers: stages.workers,
    spool,
    metrics,
    wake: stages.wake,
    start() {
      started ??= (async () => {
        // A broker not reachable yet (both started together): try again until it is, or until shutdown.
        for (let attempt = 1; ; attempt++) {
          const admin = kafka.admin({ retry: { retries: 0 } });
          try {
            await admin.connect();
            const partitions = await ensureTopics(admin, kafkaConfig, config.tombstoneRetentionMillis);
            logger.info({ topic: kafkaConfig.topic, partitions, group: kafkaConfig.group }, 'gateway mode: the log is the Kafka topic');
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
        for (const worker of stages.workers) worker.start();
        await gateway.start();
        cancelPrune = clock.setTimer(prune, 60_000);
        return 0;
      })();
      return started;
    },
    async shutdown() {
      stopping = true;
      pipeline.beginShutdown();
      await started?.catch(() => 0);
      const deadlineMillis = clock.now() + config.shutdownTimeoutMillis;
      cancelPrune?.();
      await requestLog.shutdown();
      let drained = true;
      await gateway.shutdown(deadlineMillis, async () => {
        const results = await Promise.all(stages.workers.map((worker) => worker.drain(deadlineMillis)));
        drained = results.every(Boolean);
        return drained;
      });
      await Promise.all(destinations.map((d) => settlesWithin(clock, d.shutdown(), Math.max(0, deadlineMillis - clock.now()))));
      if (stages.recorder) {
        const flushed = stages.recorder.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'could not send the last GenAI metrics'));
        await settlesWithin(clock, flushed, Math.max(0, deadlineMillis - clock.now()));
      }
      await markers.shutdown();
      pipeline.stop();
      // What was not exported stays in the topic, past the committed offsets: the next owner's.
      return drained;
    },
  };
}
