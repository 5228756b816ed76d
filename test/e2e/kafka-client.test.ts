/**
 * The Kafka client the gateway mode relies on (kafkajs 2.2.4), against a real Kafka 4.4: many
 * overlapping idempotent sends to one partition each get their own offset and every record is
 * read back (the loss @platformatic/kafka 1.35 showed, issue 15). Prints the throughput seen.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startKafka, type KafkaBroker } from './helpers/kafka.js';

let broker: KafkaBroker;
beforeAll(async () => {
  broker = await startKafka('kafka-client');
});
afterAll(async () => {
  await broker?.stop();
});

it('overlapping idempotent sends (acks=all) to one partition lose no record', async () => {
  const kafka = new Kafka({ brokers: [broker.bootstrap], clientId: 'client-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'overlap', numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sends = 200;
  const started = performance.now();
  const results = await Promise.all(
    Array.from({ length: sends }, (_, i) => producer.send({ topic: 'overlap', acks: -1, messages: [{ key: 'k', value: `v${i}` }] })),
  );
  const sendMillis = performance.now() - started;
  const offsets = new Set(results.map((r) => r[0]!.baseOffset));
  expect(offsets.size).toBe(sends);
  // Batched throughput, for the README's figure (not asserted: the broker shares the 2 cores).
  const batch = Array.from({ length: 1000 }, (_, i) => ({ key: `t${i % 64}`, value: 'x'.repeat(300) }));
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) await producer.send({ topic: 'overlap', acks: -1, messages: batch });
  const batchedPerSecond = Math.round(20_000 / ((performance.now() - t0) / 1000));
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'overlap-reader' });
  await consumer.connect();
  await consumer.subscribe({ topic: 'overlap', fromBeginning: true });
  const seen = new Set<string>();
  let total = 0;
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        total++;
        const value = message.value!.toString();
        if (value.startsWith('v')) seen.add(value);
        if (total === sends + 20_000) resolve();
      },
    });
  });
  await done;
  await consumer.disconnect();
  expect(seen.size).toBe(sends);
  process.stderr.write(`[kafka-client] ${sends} overlapping sends in ${Math.round(sendMillis)} ms, ${sends} distinct offsets; batched produce ${batchedPerSecond} records/s\n`);
}, 120_000);
