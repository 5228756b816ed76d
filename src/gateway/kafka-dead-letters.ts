// Dead letters of the gateway mode, durable in Kafka: the `<topic>-dead-letters` topic holds one
// record per letter (key: its queue, a destination's name, `<name>@<tenant>` or `<name>#scores`),
// as the embedded store keeps them: the reason, and either the payloads as they would have been
// sent (`holds: payloads`) or the completed record's JSON that could not be mapped
// (`holds: record`). `write` resolves only once the broker acknowledged the letter (acks=all), so
// the spans it holds settle — and their partition's offset may pass them — only then; it tries
// again until then (a broker away is everyone's outage), and gives up at shutdown (the offset
// waits: the next owner meets the same refusal and writes the letter again).
// `readKafkaDeadLetters` lists them for `dead-letters list`. Knows kafkajs, not the pipeline.
import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from '../logger.js';
import type { NewDeadLetter } from '../spool/export-queue.js';

export const DEAD_LETTER_VERSION = 1;

export interface KafkaDeadLetters {
  start(): Promise<void>;
  /** Resolves once the broker acknowledged the letter; rejects only once shut down. */
  write(letter: NewDeadLetter, atMillis: number): Promise<void>;
  shutdown(): Promise<void>;
}

/** A letter as `dead-letters list` prints it. */
export interface DeadLetterLine {
  id: string;
  createdAt: string;
  destination: string;
  holds: NewDeadLetter['holds'];
  spans: number;
  bytes: number;
  reason: string;
}

export function encodeDeadLetter(letter: NewDeadLetter, atMillis: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: DEAD_LETTER_VERSION,
      at: atMillis,
      destination: letter.destination,
      holds: letter.holds,
      reason: letter.reason,
      spanCount: letter.spanCount,
      payloads: letter.payloads.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('base64')),
    }),
  );
}

/** The letter at `id`, or why it cannot be read. */
export function decodeDeadLetter(id: string, value: Buffer | null): (NewDeadLetter & { id: string; createdAtMillis: number }) | { unreadable: string } {
  if (!value) return { unreadable: 'empty record' };
  try {
    const p = JSON.parse(value.toString('utf8')) as { v?: unknown; at?: unknown; destination?: unknown; holds?: unknown; reason?: unknown; spanCount?: unknown; payloads?: unknown };
    if (p.v !== DEAD_LETTER_VERSION) return { unreadable: `dead letter version ${String(p.v)} (this bridge reads ${DEAD_LETTER_VERSION})` };
    if (typeof p.destination !== 'string' || (p.holds !== 'payloads' && p.holds !== 'record') || !Array.isArray(p.payloads)) return { unreadable: 'missing destination, holds or payloads' };
    return {
      id,
      createdAtMillis: Number(p.at),
      destination: p.destination,
      holds: p.holds,
      reason: String(p.reason ?? ''),
      spanCount: Number(p.spanCount ?? p.payloads.length),
      payloads: p.payloads.map((b) => new Uint8Array(Buffer.from(String(b), 'base64'))),
    };
  } catch (error) {
    return { unreadable: `not JSON: ${(error as Error).message.slice(0, 200)}` };
  }
}

export function createKafkaDeadLetters(kafka: Kafka, topic: string, logger: Logger): KafkaDeadLetters {
  let producer: Producer | undefined;
  let stopped = false;
  const connect = async (): Promise<Producer> => {
    if (producer) return producer;
    const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await p.connect();
    producer = p;
    return p;
  };
  return {
    async start() {
      await connect().catch((error: unknown) => logger.warn({ err: error }, 'the dead-letters producer could not connect yet'));
    },
    async write(letter, atMillis) {
      const value = encodeDeadLetter(letter, atMillis);
      for (let attempt = 1; ; attempt++) {
        if (stopped) throw new Error('dead letters: shut down before the broker acknowledged the letter');
        try {
          await (await connect()).send({ topic, acks: -1, messages: [{ key: letter.destination, value }] });
          return;
        } catch (error) {
          logger.warn({ err: error, attempt, destination: letter.destination }, 'could not write a dead letter to Kafka; trying again (its offsets wait)');
          const old = producer;
          producer = undefined;
          void old?.disconnect().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
        }
      }
    },
    async shutdown() {
      stopped = true;
      await producer?.disconnect().catch(() => undefined);
    },
  };
}

/**
 * Reads every dead letter written so far (up to the log ends at the call) and hands each to
 * `onLetter`; returns how many. A topic that does not exist holds none.
 */
export async function readKafkaDeadLetters(kafka: Kafka, topic: string, onLetter: (line: DeadLetterLine) => void, maxWaitMillis = 30_000): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) return 0;
    const offsets = await admin.fetchTopicOffsets(topic);
    ends = new Map(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return 0;
  // A group of its own that commits nothing: it always reads from the start.
  const consumer = kafka.consumer({ groupId: `${topic}.list.${randomUUID()}` });
  let count = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dead letters: not all read within ${maxWaitMillis} ms`)), maxWaitMillis);
      const remaining = new Map(ends);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined || Number(message.offset) >= end) return;
            const letter = decodeDeadLetter(`${partition}:${message.offset}`, message.value);
            if ('unreadable' in letter) onLetter({ id: `${partition}:${message.offset}`, createdAt: new Date(Number(message.timestamp)).toISOString(), destination: message.key?.toString('utf8') ?? '', holds: 'payloads', spans: 0, bytes: message.value?.length ?? 0, reason: `unreadable: ${letter.unreadable}` });
            else onLetter({ id: letter.id, createdAt: new Date(letter.createdAtMillis).toISOString(), destination: letter.destination, holds: letter.holds, spans: letter.spanCount, bytes: letter.payloads.reduce((n, p) => n + p.byteLength, 0), reason: letter.reason });
            count++;
            if (Number(message.offset) + 1 >= end) remaining.delete(partition);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return count;
}
