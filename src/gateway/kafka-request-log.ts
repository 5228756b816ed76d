// The receiving side of the gateway mode: the shared request log on a Kafka topic. Each accepted
// request becomes one record per trace (gateway-record.ts), keyed so that a trace always lands in
// the same partition; `append` resolves true only once the broker acknowledged every record of the
// request (acks=all, idempotent producer). Knows kafkajs and the record format, not HTTP.
//
// Concurrent requests share one send: records wait while a send is in flight and go together in
// the next (single flight, so the idempotent producer's order per partition holds). Measured
// (test/e2e/kafka-client.test.ts, this machine, broker on the same 2 cores): one send per request
// tops out at ~400 sends/s; one send for everything waiting does ~33–39k records/s.
//
// When the broker does not acknowledge within BRIDGE_KAFKA_PRODUCE_TIMEOUT_MS, or a send fails,
// the request is answered 503 (nothing acknowledged; a record that lands later is a resend the
// assembly recognises by its envelope ids) and the log is unwritable — ready 503, requests refused
// at once — until a probe reaches the broker again.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { KafkaConfig } from '../config/kafka-config.js';
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import type { Logger } from '../logger.js';
import type { SharedRequestLog } from '../pipeline/ingest-pipeline.js';
import { encodeRecordValue, toRecords } from './gateway-record.js';

interface Waiting {
  messages: Array<{ key: string; value: Buffer }>;
  resolve: (written: boolean) => void;
}

export interface KafkaRequestLog extends SharedRequestLog {
  start(): Promise<void>;
  shutdown(): Promise<void>;
}

const PROBE_MILLIS = 1000;

export function createKafkaRequestLog(kafka: Kafka, config: KafkaConfig, logger: Logger): KafkaRequestLog {
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let waiting: Waiting[] = [];
  let inFlight = false;
  let reachable = true;
  let stopped = false;
  let probeTimer: NodeJS.Timeout | undefined;

  const newProducer = (): Promise<Producer> => {
    connecting ??= (async () => {
      const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 5 } });
      try {
        await p.connect();
      } catch (error) {
        connecting = undefined;
        throw error;
      }
      producer = p;
      return p;
    })();
    return connecting;
  };

  const unreachable = (error: unknown) => {
    if (reachable) logger.error({ err: error }, 'the Kafka broker did not acknowledge; requests are refused (503) until it is back');
    reachable = false;
    // A failed idempotent producer may be out of step with the broker: the next send gets a new one.
    const old = producer;
    producer = undefined;
    connecting = undefined;
    void old?.disconnect().catch(() => undefined);
    scheduleProbe();
  };

  const scheduleProbe = () => {
    if (probeTimer || stopped) return;
    probeTimer = setTimeout(() => {
      probeTimer = undefined;
      void probe();
    }, PROBE_MILLIS);
  };

  const probe = async () => {
    const admin = kafka.admin();
    try {
      await withTimeout(admin.connect().then(() => admin.fetchTopicMetadata({ topics: [config.topic] })), 3000);
      await withTimeout(newProducer(), 3000);
      if (!reachable) logger.info('the Kafka broker is reachable again; requests are accepted');
      reachable = true;
    } catch {
      scheduleProbe();
    } finally {
      void admin.disconnect().catch(() => undefined);
    }
  };

  const flush = async () => {
    if (inFlight || waiting.length === 0) return;
    inFlight = true;
    const batch = waiting;
    waiting = [];
    try {
      const p = producer ?? (await newProducer());
      await p.send({ topic: config.topic, acks: -1, messages: batch.flatMap((w) => w.messages) });
      for (const w of batch) w.resolve(true);
    } catch (error) {
      for (const w of batch) w.resolve(false);
      unreachable(error);
    } finally {
      inFlight = false;
      if (waiting.length > 0) void flush();
    }
  };

  return {
    writable: () => reachable && !stopped,
    append(groups: ReadonlyArray<{ source: RequestSource; events: IngestionEvent[] }>, receivedAtMillis: number): Promise<boolean> {
      const messages = toRecords(groups, receivedAtMillis).map((r) => ({ key: r.key, value: encodeRecordValue(r) }));
      if (messages.length === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        let settled = false;
        const timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          resolve(false);
          unreachable(new Error(`no acknowledgement within ${config.produceTimeoutMillis} ms`));
        }, config.produceTimeoutMillis);
        waiting.push({
          messages,
          resolve: (written) => {
            clearTimeout(timer);
            if (settled) return;
            settled = true;
            resolve(written);
          },
        });
        void flush();
      });
    },
    async start() {
      await newProducer();
    },
    async shutdown() {
      stopped = true;
      if (probeTimer) clearTimeout(probeTimer);
      await producer?.disconnect().catch(() => undefined);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, millis: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${millis} ms`)), millis);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
