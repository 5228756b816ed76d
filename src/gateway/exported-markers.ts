// The record of exported entities in gateway mode: markers in the compacted `<topic>-exported`
// companion topic, one per exported entity and destination (key: `<destination>/<entity key>`,
// value: the envelope ids merged into its span), in the partition number of its trace. The owner
// of a partition in a destination's group writes a marker once that destination acknowledged the
// span, before the group's offset may pass its records;
// every replica reads the companion topic continuously, so that a new owner knows what the
// previous one exported before it replays (a resend is a duplicate, anything else a late update).
// Markers older than the retention are forgotten, as tombstones are in the embedded store; in
// memory they are hashed and capped (marker-store.ts: BRIDGE_KAFKA_MAX_MARKERS, oldest evicted
// first). The topic itself is `compact,delete` with the retention, so it does not grow forever
// either (no null-valued deletes are needed). Knows kafkajs and nothing of assembly.
import { randomUUID } from 'node:crypto';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { EnvelopeIds } from '../assembly/assembler.js';
import type { Tombstone } from '../spool/exported-entities.js';
import type { Logger } from '../logger.js';
import { MarkerStore } from './marker-store.js';

export interface ExportedMarkers {
  start(): Promise<void>;
  /** Envelope ids of a marked entity of `partition`. */
  get(partition: number, key: string): EnvelopeIds | undefined;
  /** Writes markers to `partition`; resolves with the offset of the last one. */
  write(partition: number, tombstones: readonly Tombstone[]): Promise<number>;
  /** Next offset the reader will read in `partition` (what it has read is below it). */
  position(partition: number): number;
  /** Resolves once every marker written before this call (per `endOffsets`) was read, or after `maxWaitMillis`. */
  caughtUp(endOffsets: ReadonlyMap<number, number>, maxWaitMillis: number): Promise<boolean>;
  /** Forgets markers written before `beforeMillis`; returns how many. */
  prune(beforeMillis: number): number;
  /** Markers held in memory. */
  size(): number;
  /** Markers evicted at the cap so far. */
  evicted(): number;
  shutdown(): Promise<void>;
}

export function createExportedMarkers(kafka: Kafka, topic: string, group: string, logger: Logger, maxMarkers: number): ExportedMarkers {
  const markers = new MarkerStore(maxMarkers);
  const positions = new Map<number, number>();
  let waiters: Array<() => void> = [];
  let producer: Producer | undefined;
  // A group of its own (one member: every partition), committing nothing: it always reads from the start.
  const reader: Consumer = kafka.consumer({ groupId: `${group}.markers.${randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1000 });

  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const fn of w) fn();
  };

  return {
    async start() {
      producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await producer.connect();
      await reader.connect();
      await reader.subscribe({ topic, fromBeginning: true });
      // Not awaited: the join is the reader's own business; `caughtUp` waits for what it read.
      void reader.run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset }) => {
          for (const message of batch.messages) {
            const key = message.key?.toString('utf8');
            if (key) {
              if (!message.value) markers.delete(batch.partition, key);
              else {
                try {
                  const ids = (JSON.parse(message.value.toString('utf8')) as { ids?: unknown }).ids;
                  if (Array.isArray(ids)) markers.set(batch.partition, key, ids.map(String), Number(message.timestamp));
                } catch (error) {
                  logger.warn({ err: error, partition: batch.partition, offset: message.offset }, 'an exported-entity marker could not be read; skipped');
                }
              }
            }
            resolveOffset(message.offset);
            positions.set(batch.partition, Number(message.offset) + 1);
          }
          notify();
        },
      }).catch((error: unknown) => logger.error({ err: error }, 'the exported-entity markers reader stopped'));
    },
    get: (partition, key) => markers.get(partition, key),
    async write(partition, tombstones) {
      if (!producer) throw new Error('markers not started');
      const result = await producer.send({
        topic,
        acks: -1,
        messages: tombstones.map((t) => ({ key: t.key, value: JSON.stringify({ ids: t.envelopeIds }), partition })),
      });
      const base = Number(result[0]?.baseOffset ?? -1);
      return base + tombstones.length - 1;
    },
    position: (partition) => positions.get(partition) ?? 0,
    caughtUp(endOffsets, maxWaitMillis) {
      const done = () => [...endOffsets].every(([p, end]) => (positions.get(p) ?? 0) >= end);
      if (done()) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          logger.warn({ waitedMillis: maxWaitMillis }, 'the exported-entity markers were not all read in time; replaying anyway (copies possible)');
          resolve(false);
        }, maxWaitMillis);
        const check = () => {
          if (done()) {
            clearTimeout(timer);
            resolve(true);
          } else waiters.push(check);
        };
        waiters.push(check);
      });
    },
    prune: (beforeMillis) => markers.prune(beforeMillis),
    size: () => markers.size,
    evicted: () => markers.evicted,
    async shutdown() {
      await Promise.all([reader.disconnect().catch(() => undefined), producer?.disconnect().catch(() => undefined)]);
    },
  };
}
