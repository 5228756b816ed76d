// The assembling side of the gateway mode for ONE destination: this replica's membership in that
// destination's consumer group (`<BRIDGE_KAFKA_GROUP>.<destination>`). Assembles the partitions it
// owns (one PartitionAssembly each), queues what completes for the destination's lanes (its
// tenants' lanes and its scores queue) into its own in-memory delivery queue, writes the markers
// of what the destination acknowledged (keys prefixed `<destination>/`) and commits each
// partition's offset by the rule in partition-assembly.ts. Knows kafkajs; leaves merging to
// assembly, mapping and encoding to the lanes it is given, sending to the export workers.
//
// Why one group per destination (issue 15, scope 4): each destination has its own committed
// position, queue bound and pause state, so a dead backend pauses only its own consumer and holds
// back only its own offsets; the healthy ones keep fetching, delivering and committing. The cost
// is that every destination's consumer reads and assembles the topic itself (measured in the
// README, "Scale out").
//
// Membership: kafkajs rebalances eagerly: every assignment revokes everything first. On each
// assignment this consumer drops the open state of every partition it held (and the queued spans
// not yet sent), reads the markers up to their end, and replays each partition it now owns from
// its committed offset. Records fetched for a partition it does not own (now) are dropped.
// Budgets: past the memory budget, or with one of its lanes' queues at its bound, this consumer
// pauses fetching; requests are never refused for it (the topic is the backlog).
// Dead letters (a record that cannot be mapped, spans refused for good) go to the
// `<topic>-dead-letters` topic; their ticket settles once the broker acknowledged the letter.
import type { Consumer, Kafka } from 'kafkajs';
import type { CollectMode } from '../assembly/assembler.js';
import { encodeRecord } from '../assembly/record-codec.js';
import type { Clock } from '../clock.js';
import type { KafkaConfig } from '../config/kafka-config.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import { RECORDS_PER_SLICE, SLICE_MILLIS } from '../pipeline/ingest-pipeline.js';
import { mapAndEncode, type PipelineDestination } from '../pipeline/map-record.js';
import { exceedsMemoryBudget, processMemory } from '../pipeline/memory-budget.js';
import type { ExportedMarkers } from './exported-markers.js';
import type { KafkaDeadLetters } from './kafka-dead-letters.js';
import type { NewDeadLetter } from '../spool/export-queue.js';
import { decodeRecordValue } from './gateway-record.js';
import { DeliveryQueue } from './delivery-queue.js';
import { PartitionAssembly, type Ticket } from './partition-assembly.js';

export interface GatewayConsumerOptions {
  kafka: Kafka;
  config: KafkaConfig;
  markers: ExportedMarkers;
  /** The `<topic>-dead-letters` writer. */
  deadLetters: Pick<KafkaDeadLetters, 'write'>;
  /** The destination this consumer delivers to: its group is `<config.group>.<destination>`. */
  destination: string;
  /** The destination's lanes (one, or one per tenant). */
  destinations: readonly PipelineDestination[];
  /** Spans were queued (wake the workers). */
  onQueued: () => void;
  /** The span drafts queued for lanes that feed the GenAI metrics (`feedsMetrics`). */
  onDraftsQueued?: (drafts: readonly SpanDraft[]) => void;
  metrics: BridgeMetrics;
  logger: Logger;
  clock: Clock;
  traceIdleMillis: number;
  observationTimeoutMillis: number;
  memoryLimitBytes: number;
  /** How often due work is collected, markers written and offsets committed. @defaultValue 100 */
  tickMillis?: number;
}

export interface GatewayConsumer {
  readonly queue: DeliveryQueue;
  readonly destination: string;
  readonly groupId: string;
  start(): Promise<void>;
  /** Partitions owned now. */
  ownedPartitions(): number[];
  pendingEntities(): number;
  /** Stops fetching; writes the markers of what was acknowledged and commits; leaves the group. */
  shutdown(deadlineMillis: number, drained: () => Promise<boolean>): Promise<void>;
}

const COMMIT_EVERY_MILLIS = 500;
/** The log ends are read from the broker this often too: a paused partition fetches none. */
const LOG_END_EVERY_MILLIS = 5000;
/** How long a gap in a partition's offsets (an old generation's batch) is waited out before it is accepted. */
const GAP_GRACE_MILLIS = 5000;

/** The consumer group of one destination's consumers. */
export function destinationGroupId(group: string, destination: string): string {
  return `${group}.${destination}`;
}

/** A destination's marker key for an entity (destination names never contain `/`). */
export function markerKeyOf(destination: string, entityKey: string): string {
  return `${destination}/${entityKey}`;
}

export function createGatewayConsumer(options: GatewayConsumerOptions): GatewayConsumer {
  const { kafka, config, markers, destinations, metrics, clock, destination } = options;
  const logger = options.logger.child({ destination });
  const labels = { destination };
  const topic = config.topic;
  const groupId = destinationGroupId(config.group, destination);
  const markerPrefix = markerKeyOf(destination, '');
  const tickMillis = options.tickMillis ?? 100;
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  const admin = kafka.admin();
  let states = new Map<number, PartitionAssembly>();
  let generation = 0;
  let ready: Promise<void> = Promise.resolve();
  const committed = new Map<number, number>();
  const highWatermarks = new Map<number, number>();
  const toMark = new Set<Ticket>();
  const gaps = new Map<number, { offset: number; sinceMillis: number }>();
  let paused: string | undefined;
  let tickTimer: (() => void) | undefined;
  let lastCommitMillis = 0;
  let lastLogEndMillis = 0;
  let stopped = false;
  let sliceScheduled = false;
  let marking = false;

  const queue = new DeliveryQueue(
    config.maxQueuedSpansPerDestination,
    (ticket) => {
      toMark.add(ticket);
      void markSettled();
    },
    (letter, atMillis) => options.deadLetters.write(letter, atMillis),
  );

  function overMemory(): boolean {
    return exceedsMemoryBudget(processMemory(), options.memoryLimitBytes);
  }

  function budgetReason(): string | undefined {
    if (queue.full()) return 'export_queue';
    if (overMemory()) return 'memory';
    return undefined;
  }

  /** Drops every partition's open state (eager rebalancing revokes all before assigning). */
  function revokeAll(): void {
    for (const [partition, state] of states) {
      state.drop();
      queue.dropPartition(partition);
      metrics.kafkaPartitionLag.remove({ ...labels, partition: String(partition) });
    }
    states = new Map();
    committed.clear();
    gaps.clear();
  }

  function assign(partitions: number[]): void {
    const gen = ++generation;
    revokeAll();
    metrics.kafkaRebalances.inc(labels);
    const startedAt = clock.now();
    ready = (async () => {
      // Where each owned partition starts: its committed offset, or the log start; and the end of
      // the markers, which must be read before the replay. A failed read is retried: without it
      // this replica would own partitions and assemble nothing until the next rebalance.
      let reads;
      for (let attempt = 1; ; attempt++) {
        try {
          reads = await Promise.all([
            admin.fetchOffsets({ groupId, topics: [topic] }),
            admin.fetchTopicOffsets(topic),
            admin.fetchTopicOffsets(config.exportedTopic),
          ]);
          break;
        } catch (error) {
          if (gen !== generation || stopped) return;
          logger.warn({ err: error, attempt }, 'could not read the committed offsets of the assigned partitions; trying again');
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
        }
      }
      const [offsets, starts, markerEnds] = reads;
      const owned = new Set(partitions);
      const ends = new Map(markerEnds.filter((m) => owned.has(m.partition)).map((m) => [m.partition, Number(m.high)]));
      await markers.caughtUp(ends, 15_000);
      if (gen !== generation) return;
      const committedOf = new Map((offsets[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
      const lowOf = new Map(starts.map((s) => [s.partition, Number(s.low)]));
      const next = new Map<number, PartitionAssembly>();
      for (const partition of partitions) {
        const low = lowOf.get(partition) ?? 0;
        const c = committedOf.get(partition) ?? -1;
        const startOffset = c >= 0 ? Math.max(c, low) : low;
        committed.set(partition, startOffset);
        next.set(
          partition,
          new PartitionAssembly({
            partition,
            startOffset,
            traceIdleMillis: options.traceIdleMillis,
            observationTimeoutMillis: options.observationTimeoutMillis,
            markedEnvelopeIds: (key) => markers.get(partition, markerPrefix + key),
          }),
        );
      }
      states = next;
      logger.info({ generation: gen, partitions: partitions.length, owned: [...partitions].sort((x, y) => x - y), readyMillis: clock.now() - startedAt }, 'partitions assigned; replaying them from their committed offsets');
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'could not take the assigned partitions; leaving them to a rejoin');
      throw error;
    });
    ready.catch(() => undefined);
  }

  function countIngest(result: { duplicates: number; dropped: number; lateUpdates: number; refolds: number }): void {
    if (result.duplicates > 0) metrics.duplicateEvents.inc(result.duplicates);
    if (result.dropped > 0) metrics.eventsDropped.inc({ reason: 'no_body_id' }, result.dropped);
    if (result.lateUpdates > 0) metrics.lateUpdates.inc(result.lateUpdates);
    if (result.refolds > 0) metrics.refolds.inc(result.refolds);
  }

  /** Queues what `mode` collects in every owned partition, in slices that yield to requests. */
  function runSlices(mode: CollectMode): void {
    sliceScheduled = false;
    if (stopped) return;
    const startedAt = performance.now();
    let more = false;
    for (const state of states.values()) {
      while (performance.now() - startedAt < SLICE_MILLIS) {
        const n = queueCollected(state, mode);
        if (n < RECORDS_PER_SLICE) break;
        more = true;
      }
    }
    if (more) scheduleSlices(mode);
  }

  function scheduleSlices(mode: CollectMode): void {
    if (sliceScheduled || stopped) return;
    sliceScheduled = true;
    setImmediate(() => runSlices(mode));
  }

  function queueCollected(state: PartitionAssembly, mode: CollectMode): number {
    const collected = state.collect(clock.now(), RECORDS_PER_SLICE, mode);
    if (collected.keys.length === 0) return 0;
    const spans: Array<{ queue: string; payload: Uint8Array }> = [];
    const letters: NewDeadLetter[] = [];
    const drafts: SpanDraft[] = [];
    for (const [index, lane] of destinations.entries()) {
      const feedsMetrics = (lane.feedsMetrics ?? index === 0) && options.onDraftsQueued !== undefined;
      for (const record of collected.records) {
        try {
          const item = mapAndEncode(lane, record);
          spans.push(item);
          if (feedsMetrics && item.draft) drafts.push(item.draft);
        } catch (error) {
          // The same record fails the same way on every owner: kept aside as a dead letter (its
          // JSON, as the embedded store keeps it), never retried in a loop.
          const reason = `could not map or encode the span: ${error instanceof Error ? error.message : String(error)}`;
          letters.push({ destination: lane.name, holds: 'record', reason, payloads: [Buffer.from(encodeRecord(record))], spanCount: 1 });
          metrics.deadLettered.inc({ destination });
          logger.error({ lane: lane.name, reason }, 'a completed record could not be exported; moved to dead letters');
        }
      }
    }
    const ticket = state.confirm(collected, spans.length + letters.length);
    for (const span of spans) queue.add(span.queue, span.payload, ticket);
    for (const letter of letters) queue.deadLetterRecord(letter, clock.now(), ticket);
    if (drafts.length > 0) options.onDraftsQueued?.(drafts);
    if (spans.length + letters.length === 0) toMark.add(ticket);
    else options.onQueued();
    return collected.keys.length;
  }

  /** Writes the markers of settled tickets (oldest first), then lets their partitions release offsets. */
  async function markSettled(): Promise<void> {
    if (marking) return;
    marking = true;
    try {
      while (toMark.size > 0) {
        const ticket = toMark.values().next().value!;
        const state = states.get(ticket.partition);
        const last = ticket.tombstones.length > 0 ? await markers.write(ticket.partition, ticket.tombstones.map((t) => ({ ...t, key: markerPrefix + t.key }))) : -1;
        toMark.delete(ticket);
        // A dropped partition's markers still help its new owner; its offsets are not ours to commit.
        if (!ticket.dropped && state && !state.dropped) {
          state.marked(ticket, last);
          state.settle();
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'could not write exported-entity markers; will retry (the offsets wait)');
    } finally {
      marking = false;
    }
  }

  async function commit(): Promise<void> {
    const topicPartitions: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [partition, state] of states) {
      const offset = state.committableOffset();
      const high = highWatermarks.get(partition);
      if (high !== undefined) metrics.kafkaPartitionLag.set({ ...labels, partition: String(partition) }, Math.max(0, high - (committed.get(partition) ?? 0)));
      if (offset > (committed.get(partition) ?? -1)) topicPartitions.push({ topic, partition, offset: String(offset) });
    }
    if (topicPartitions.length === 0) return;
    const gen = generation;
    try {
      await consumer.commitOffsets(topicPartitions);
      if (gen === generation) for (const tp of topicPartitions) committed.set(tp.partition, Number(tp.offset));
    } catch (error) {
      // A rebalance under way: the next owner starts from the last commit (copies, never loss).
      logger.debug({ err: error }, 'could not commit offsets now');
    }
  }

  function tick(): void {
    if (stopped) return;
    runSlices('due');
    for (const [partition, state] of states) state.markersReadUpTo(markers.position(partition));
    void markSettled();
    if (clock.now() - lastLogEndMillis >= LOG_END_EVERY_MILLIS) {
      lastLogEndMillis = clock.now();
      admin.fetchTopicOffsets(topic).then(
        (ends) => {
          for (const end of ends) highWatermarks.set(end.partition, Math.max(highWatermarks.get(end.partition) ?? 0, Number(end.high)));
        },
        () => undefined,
      );
    }
    if (clock.now() - lastCommitMillis >= COMMIT_EVERY_MILLIS) {
      lastCommitMillis = clock.now();
      void commit();
    }
    if (paused && budgetReason() === undefined) {
      logger.info({ reason: paused }, 'budget back under its limit; fetching resumes');
      paused = undefined;
      metrics.kafkaConsumerPaused.set(labels, 0);
      consumer.resume([{ topic }]);
    }
    tickTimer = clock.setTimer(tick, tickMillis);
  }

  return {
    queue,
    destination,
    groupId,
    ownedPartitions: () => [...states.keys()],
    pendingEntities: () => [...states.values()].reduce((n, s) => n + s.assembler.pendingEntities(), 0),
    async start() {
      metrics.kafkaConsumerPaused.set(labels, 0);
      await admin.connect();
      consumer.on(consumer.events.REBALANCING, () => {
        generation++;
        if (states.size > 0) logger.info({ generation, revoked: [...states.keys()].sort((x, y) => x - y) }, 'partitions revoked: the group is rebalancing');
        revokeAll();
      });
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        assign(event.payload.memberAssignment[topic] ?? []);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      // Not awaited: the first join may wait for every member to rejoin (up to the rebalance
      // timeout); the receiving side is ready meanwhile.
      void consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const gen = generation;
          await ready.catch(() => undefined);
          const state = gen === generation ? states.get(batch.partition) : undefined;
          if (!state) {
            metrics.kafkaRecordsSkipped.inc({ ...labels, reason: 'not_owned' }, batch.messages.length);
            return;
          }
          highWatermarks.set(batch.partition, Number(batch.highWatermark));
          let n = 0;
          for (const message of batch.messages) {
            if (!isRunning() || isStale() || state.dropped || stopped) break;
            const offset = Number(message.offset);
            if (offset < state.nextOffset) {
              resolveOffset(message.offset);
              continue;
            }
            if (offset > state.nextOffset) {
              // Records come in order: a later one first is a batch fetched for an older assignment,
              // unless the log really has a gap (retention): accepted after a grace period.
              const gap = gaps.get(batch.partition);
              if (!gap || gap.offset !== state.nextOffset) gaps.set(batch.partition, { offset: state.nextOffset, sinceMillis: clock.now() });
              if (clock.now() - (gaps.get(batch.partition)?.sinceMillis ?? 0) < GAP_GRACE_MILLIS) break;
              logger.warn({ partition: batch.partition, expected: state.nextOffset, got: offset }, 'a gap in the partition offsets; continuing after it');
            }
            const reason = budgetReason();
            if (reason) {
              if (!paused) {
                paused = reason;
                metrics.kafkaFetchPaused.inc({ ...labels, reason });
                metrics.kafkaConsumerPaused.set(labels, 1);
                logger.warn({ reason }, 'a budget is reached: fetching pauses (requests are still accepted)');
                consumer.pause([{ topic }]);
              }
              break;
            }
            const record = decodeRecordValue(message.key?.toString('utf8') ?? '', message.value);
            const size = message.value?.length ?? 0;
            if ('unreadable' in record) {
              metrics.kafkaRecordsSkipped.inc({ ...labels, reason: 'unreadable' });
              logger.error({ partition: batch.partition, offset, reason: record.unreadable }, 'a record could not be read; skipped');
              state.skip(offset);
            } else {
              countIngest(state.ingest(offset, record, size, clock.now()));
            }
            resolveOffset(message.offset);
            if (++n % 200 === 0) await heartbeat();
          }
          scheduleSlices('ready');
        },
      }).catch((error: unknown) => logger.error({ err: error }, 'the Kafka consumer stopped; this replica assembles nothing until it restarts'));
      tickTimer = clock.setTimer(tick, tickMillis);
    },
    async shutdown(deadlineMillis, drained) {
      await consumer.stop().catch(() => undefined);
      stopped = true;
      tickTimer?.();
      // What every destination acknowledged is marked and committed; the rest is the next owner's.
      await drained();
      await markSettled();
      if (clock.now() < deadlineMillis) await commit();
      await consumer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    },
  };
}
