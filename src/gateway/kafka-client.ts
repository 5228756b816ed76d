// The Kafka client of the gateway mode: kafkajs 2.2.4, built from KafkaConfig, and the topics it
// needs. The only place besides the other gateway/ modules that imports kafkajs.
//
// Why kafkajs 2.2.4 (measured on this 2-core machine against Kafka 4.4, issue 15 and
// test/e2e/kafka-client.test.ts): 200 overlapping idempotent sends (acks=all) to one partition got
// 200 distinct offsets and were all read back, where @platformatic/kafka 1.35 (the last line that
// installs on Node 20) resolved 20 overlapping sends with one offset and wrote one record, and kept
// delivering revoked partitions' records (~9,600 per rebalance). kafkajs is pure JavaScript (Node
// 20, 22 and 24 alike), its default partitioner is Java's murmur2 (keys land where Java clients
// put them), and it produced ~33–39k records/s batched here (the run: 54k; consume 133k).
// Its costs: no release since 2023, and eager (stop-the-world) rebalancing only; the gateway drops
// open state on every assignment anyway (partition-assembly.ts), so eager rebalancing costs a
// replay from the committed offsets, measured in the README ("Scale out").
import { Kafka, logLevel, type Admin, type ITopicConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaConfig } from '../config/kafka-config.js';
import type { Logger } from '../logger.js';

export function createKafka(config: KafkaConfig, logger: Logger): Kafka {
  return new Kafka({
    brokers: config.brokers,
    clientId: config.clientId,
    ...(config.tls ? { ssl: { rejectUnauthorized: config.tls.rejectUnauthorized, ...(config.tls.ca ? { ca: [config.tls.ca] } : {}) } } : {}),
    ...(config.sasl ? { sasl: config.sasl as SASLOptions } : {}),
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    // Short retries: the gateway answers 503 rather than hold a request while the broker is away.
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 5 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      const fields = { kafka: entry.namespace, ...rest };
      // kafkajs logs every failed connection attempt as an error; the bridge reports the outcome
      // (503, ready, retries) itself, so these are warnings.
      logger.warn(fields, `kafka: ${message}`);
    },
  });
}

export const DEAD_LETTER_RETENTION_MILLIS = 30 * 24 * 3600 * 1000;

/**
 * Creates the topic, its `-exported` companion and its `-dead-letters` topic when missing, with the same partition count
 * (a marker must land in the partition number of its trace). An existing topic is used as it is;
 * a companion whose partition count differs is refused, as markers would land elsewhere.
 */
export async function ensureTopics(admin: Admin, config: KafkaConfig, markerRetentionMillis: number): Promise<number> {
  const existing = await admin.fetchTopicMetadata({ topics: [] }).then((m) => new Map(m.topics.map((t) => [t.name, t.partitions.length])));
  const wanted: ITopicConfig[] = [];
  const partitions = existing.get(config.topic) ?? config.partitions;
  if (!existing.has(config.topic)) wanted.push({ topic: config.topic, numPartitions: partitions, replicationFactor: config.replicationFactor });
  if (!existing.has(config.exportedTopic)) {
    wanted.push({
      topic: config.exportedTopic,
      numPartitions: partitions,
      replicationFactor: config.replicationFactor,
      // One marker per entity is enough (compaction), and none is needed past the retention.
      configEntries: [
        { name: 'cleanup.policy', value: 'compact,delete' },
        { name: 'retention.ms', value: String(Math.max(60_000, markerRetentionMillis)) },
      ],
    });
  } else if (existing.get(config.exportedTopic) !== partitions) {
    throw new Error(`topic ${config.exportedTopic} has ${existing.get(config.exportedTopic)} partitions, ${config.topic} has ${partitions}: they must be equal`);
  }
  if (!existing.has(config.deadLetterTopic)) {
    // Dead letters are rare and read by people: one partition, kept 30 days (the embedded store
    // keeps them until retried; change the topic's retention.ms to keep them longer).
    wanted.push({ topic: config.deadLetterTopic, numPartitions: 1, replicationFactor: config.replicationFactor, configEntries: [{ name: 'retention.ms', value: String(DEAD_LETTER_RETENTION_MILLIS) }] });
  }
  if (wanted.length > 0) {
    try {
      await admin.createTopics({ topics: wanted, waitForLeaders: true });
    } catch (error) {
      // Another replica created it at the same moment.
      if (!String((error as Error).message).includes('already exists')) throw error;
    }
  }
  return partitions;
}
