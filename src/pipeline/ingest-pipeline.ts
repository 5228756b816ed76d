// The pipeline, in order: validate → log (durable) → assemble (incremental merge) on the request
// path; then, off it and in slices, completed records → mapping (per destination) → encoding →
// export queue, in one store transaction with the log rows it releases. The only module that
// orders the stages; never sees a request object nor decides an HTTP status (the receiver does).
import { getHeapStatistics } from 'node:v8';
import type { Assembler, CollectMode, IngestResult } from '../assembly/assembler.js';
import type { CompletedRecord } from '../assembly/completed-record.js';
import type { Clock } from '../clock.js';
import { EVENT_TYPES, type EventRejection, type IngestionEvent } from '../ingestion/ingestion-event.js';
import { toRequestSource, type RequestSource } from '../ingestion/request-source.js';
import { validatedTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType, validateBatch, type ValidationLimits } from '../ingestion/validate-batch.js';
import { SLICED_VALIDATION_ABOVE, validateBatchSliced } from '../ingestion/validate-batch-sliced.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import { isUnreadable, type Commit, type Spool, type SpoolEntry } from '../spool/spool.js';

/** A Commit being built (its lists still growing). */
interface QueueCommit extends Commit {
  spans: Array<Commit['spans'][number]>;
  deadLetters: Array<NonNullable<Commit['deadLetters']>[number]>;
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** One place spans go: its own mapping and encoding, its own part (or parts) of the queue. */
export interface PipelineDestination {
  name: string;
  /**
   * Maps and encodes a record for this destination; `queue` names the worker that sends it.
   * Undefined when the destination does not take it (a tenant it does not serve). Throws when it cannot.
   */
  encodeRecord(record: CompletedRecord): { queue: string; payload: Uint8Array } | undefined;
}

export interface IngestRequest {
  batch: readonly unknown[];
  metadata: unknown;
  /** Lower-case header names, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The tenant whose keys authenticated it, when tenants are configured. */
  tenant?: string;
}

export interface IngestionResponseBody {
  successes: Array<{ id: string; status: 201 }>;
  errors: Array<Omit<EventRejection, 'type'>>;
}

export type RefusalReason = 'shutting_down' | 'replaying' | 'spool_full' | 'memory_limit' | 'disk_full';

export type IngestOutcome =
  | { kind: 'accepted'; body: IngestionResponseBody }
  | { kind: 'refused'; reason: RefusalReason; retryAfterSeconds: number; body: { error: string; message: string } };

export interface IngestPipeline {
  /** Validates, stores and assembles one batch; the outcome says what to answer. */
  ingest(request: IngestRequest): Promise<IngestOutcome>;
  /**
   * Stores events another receiver already built and validated (OTLP, /scores), one log entry per
   * group, then assembles them. Durable once accepted; throws when the store fails.
   */
  ingestEvents(groups: ReadonlyArray<{ source: RequestSource; events: IngestionEvent[] }>): Promise<IngestOutcome>;
  /** Why it is not accepting (spool or memory budget reached, replaying, shutting down), if so. */
  notAcceptingReason(): RefusalReason | undefined;
  /** The refused outcome for a reason (counted). */
  refusal(reason: RefusalReason): Extract<IngestOutcome, { kind: 'refused' }>;
  /** Feeds every log entry kept from a previous run into assembly, in slices. Returns how many. */
  replay(): Promise<number>;
  /** Starts the timer that queues what turned complete by waiting (idle traces, timeouts). */
  start(): void;
  /** Queues everything `mode` collects now, in one go (shutdown, tests). Returns the records queued. */
  flush(mode: CollectMode): number;
  beginShutdown(): void;
  stop(): void;
}

export interface IngestPipelineOptions {
  spool: Spool;
  assembler: Assembler;
  destinations: readonly PipelineDestination[];
  /** Spans were queued. */
  onQueued: () => void;
  metrics: BridgeMetrics;
  logger: Logger;
  clock: Clock;
  /** The disk budget: log plus queue. */
  spoolMaxBytes: number;
  /** The memory budget (soft): past it, batches are refused until it is back under. */
  memoryLimitBytes: number;
  /** Memory in use now (tests pin it). @defaultValue {@link processMemory} */
  memory?: () => MemoryReading;
  validationLimits?: Partial<ValidationLimits>;
  /** False while the store's disk is full (new batches could not be written). @defaultValue always true */
  storeWritable?: () => boolean;
  /** How often waiting work is looked at. @defaultValue 100 */
  tickMillis?: number;
}

const REFUSALS: Record<RefusalReason, { retryAfterSeconds: number; message: string }> = {
  shutting_down: { retryAfterSeconds: 5, message: 'the bridge is shutting down' },
  replaying: { retryAfterSeconds: 2, message: 'the bridge is replaying its store after a restart' },
  spool_full: { retryAfterSeconds: 10, message: 'the spool is full: the backend is not keeping up' },
  memory_limit: { retryAfterSeconds: 5, message: 'the bridge is at its memory limit (BRIDGE_MEMORY_LIMIT_MIB)' },
  disk_full: { retryAfterSeconds: 10, message: 'the disk holding the store is full: new batches are refused until space frees' },
};

/** What a refusal says, for `/api/public/ready` too. */
export function refusalMessage(reason: RefusalReason): string {
  return REFUSALS[reason].message;
}

/**
 * Records per slice and the time a slice may hold the event loop. Measured (/tmp script on the
 * built bridge, LiteLLM fixture): mapping and encoding one record takes ~26 µs, so a slice of 64
 * is ~1.7 ms. A worker thread would take that off the main thread, but each record would be
 * copied to it (structured clone: ~7 µs) and its payloads copied back to the one SQLite
 * connection, which must stay on this thread to commit the queue with the log release; slices
 * already keep each hold under ~4 ms, so the simpler design was kept (the worker variant was not
 * built and measured end to end).
 */
const RECORDS_PER_SLICE = 64;
const SLICE_MILLIS = 4;
/** Memory is read at most this often (cheap, not free). */
const MEMORY_SAMPLE_MILLIS = 50;

export interface MemoryReading {
  rssBytes: number;
  /** V8 heap in use and its limit: under a cgroup limit V8 sizes its heap below the RSS budget. */
  heapUsedBytes: number;
  heapLimitBytes: number;
}

/** This process's memory. */
export function processMemory(): MemoryReading {
  const heap = getHeapStatistics();
  return { rssBytes: process.memoryUsage.rss(), heapUsedBytes: heap.used_heap_size, heapLimitBytes: heap.heap_size_limit };
}

/**
 * The heap's share that counts as full. Measured (bench:outage, 512 MiB cgroup): Node 20 sets a
 * 259 MiB heap limit there, so an RSS budget of 410 MiB alone let V8 abort first; 85% leaves the
 * garbage collector room to work before the limit.
 */
const HEAP_FULL_RATIO = 0.85;

export function createIngestPipeline(options: IngestPipelineOptions): IngestPipeline {
  const { spool, assembler, destinations, metrics, logger, clock, spoolMaxBytes, memoryLimitBytes } = options;
  const readMemory = options.memory ?? processMemory;
  const tickMillis = options.tickMillis ?? 100;
  const storeWritable = options.storeWritable ?? (() => true);
  let shuttingDown = false;
  // Closed until the store is replayed (`replay`, from the service's start).
  let replaying = true;
  let stopped = false;
  let sliceScheduled = false;
  let cancelTick: (() => void) | undefined;
  let sampledAt = -Infinity;
  let over = false;

  function overMemory(): boolean {
    const t = performance.now();
    if (t - sampledAt >= MEMORY_SAMPLE_MILLIS) {
      const m = readMemory();
      over = m.rssBytes >= memoryLimitBytes || m.heapUsedBytes >= m.heapLimitBytes * HEAP_FULL_RATIO;
      sampledAt = t;
    }
    return over;
  }

  function notAcceptingReason(): RefusalReason | undefined {
    if (shuttingDown) return 'shutting_down';
    if (replaying) return 'replaying';
    if (spool.pendingBytes() >= spoolMaxBytes) return 'spool_full';
    if (!storeWritable()) return 'disk_full';
    if (overMemory()) return 'memory_limit';
    return undefined;
  }

  function refusal(reason: RefusalReason): Extract<IngestOutcome, { kind: 'refused' }> {
    metrics.requestsRejected.inc({ reason });
    const { retryAfterSeconds, message } = REFUSALS[reason];
    return { kind: 'refused', reason, retryAfterSeconds, body: { error: 'ServiceUnavailableError', message } };
  }

  function countIngest(result: IngestResult, seq: number): void {
    if (result.duplicates > 0) metrics.duplicateEvents.inc(result.duplicates);
    if (result.dropped > 0) metrics.eventsDropped.inc({ reason: 'no_body_id' }, result.dropped);
    if (result.lateUpdates > 0) {
      metrics.lateUpdates.inc(result.lateUpdates);
      logger.info({ lateUpdates: result.lateUpdates, seq }, 'updates for spans already exported were counted, not exported');
    }
  }

  function assemble(entry: SpoolEntry): void {
    const result = assembler.ingest(entry, clock.now());
    countIngest(result, entry.seq);
    if (result.refolds > 0) metrics.refolds.inc(result.refolds);
    if (result.releasable) spool.release([entry.seq]);
  }

  /** Maps, encodes and queues one collection; returns how many entities it settled. */
  function queueCollected(mode: CollectMode, limit: number): number {
    const collected = assembler.collect(clock.now(), limit, mode);
    if (collected.keys.length === 0) return 0;
    const commit: QueueCommit = { spans: [], tombstones: collected.tombstones, releaseSeqs: collected.releaseSeqs, deadLetters: [] };
    for (const destination of destinations) {
      for (const record of collected.records) queueRecord(destination, record, commit);
    }
    spool.commit(commit, clock.now());
    assembler.confirm(collected);
    if (commit.spans.length > 0) options.onQueued();
    return collected.keys.length;
  }

  function queueRecord(destination: PipelineDestination, record: CompletedRecord, commit: QueueCommit): void {
    try {
      const item = destination.encodeRecord(record);
      if (item) commit.spans.push({ destination: item.queue, payload: item.payload });
    } catch (error) {
      // The same record would fail the same way again: it is kept aside (as JSON), never retried in a loop.
      const reason = `could not map or encode the span: ${error instanceof Error ? error.message : String(error)}`;
      const kept = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
      commit.deadLetters.push({ destination: destination.name, reason, payloads: [Buffer.from(kept)], spanCount: 1 });
      metrics.deadLettered.inc({ destination: destination.name });
      logger.error({ destination: destination.name, reason }, 'a completed record could not be exported; moved to dead letters');
    }
  }

  /**
   * Queues what is complete in slices that hold the event loop at most ~SLICE_MILLIS each, so
   * that requests keep being answered while a large backlog turns into spans.
   */
  function runSlices(mode: CollectMode): void {
    sliceScheduled = false;
    if (stopped) return;
    const startedAt = performance.now();
    try {
      while (performance.now() - startedAt < SLICE_MILLIS) {
        if (queueCollected(mode, RECORDS_PER_SLICE) < RECORDS_PER_SLICE) return;
      }
    } catch (error) {
      // A store error (disk full): the records stay in assembly and the log; the next turn retries.
      metrics.exportFailures.inc({ destination: 'queue', kind: 'internal' });
      logger.error({ err: error }, 'could not queue completed spans; will retry');
      return;
    }
    scheduleSlices(mode);
  }

  function scheduleSlices(mode: CollectMode): void {
    if (sliceScheduled || stopped) return;
    sliceScheduled = true;
    setImmediate(() => runSlices(mode));
  }

  function tick(): void {
    if (stopped) return;
    runSlices('due');
    cancelTick = clock.setTimer(tick, tickMillis);
  }

  async function store(events: IngestionEvent[], source: RequestSource): Promise<void> {
    // The answer promises durability: the entry is committed before it is assembled.
    const entry = spool.append({ receivedAtMillis: clock.now(), source, events });
    assemble(entry);
    scheduleSlices('ready');
  }

  return {
    notAcceptingReason,
    refusal,
    beginShutdown() {
      shuttingDown = true;
    },
    start() {
      if (cancelTick || stopped) return;
      cancelTick = clock.setTimer(tick, tickMillis);
    },
    stop() {
      stopped = true;
      cancelTick?.();
    },
    flush(mode) {
      let total = 0;
      for (;;) {
        const n = queueCollected(mode, RECORDS_PER_SLICE * 16);
        total += n;
        if (n === 0 || n < RECORDS_PER_SLICE * 16) return total;
      }
    },
    async replay() {
      replaying = true;
      let count = 0;
      let sliceStart = performance.now();
      try {
        for (const entry of spool.replay()) {
          if (isUnreadable(entry)) {
            metrics.quarantinedEntries.inc();
            logger.error({ seq: entry.seq, reason: entry.unreadable }, 'a stored batch could not be read; moved to quarantine');
            continue;
          }
          assemble(entry);
          count++;
          if (performance.now() - sliceStart >= SLICE_MILLIS) {
            // Health and metrics are answered between slices.
            await new Promise((resolve) => setImmediate(resolve));
            sliceStart = performance.now();
          }
        }
      } finally {
        replaying = false;
      }
      scheduleSlices('due');
      return count;
    },
    async ingestEvents(groups) {
      const reason = notAcceptingReason();
      if (reason) return refusal(reason);
      for (const group of groups) {
        if (group.events.length === 0) continue;
        for (const event of group.events) {
          metrics.eventsReceived.inc({ type: event.type });
          metrics.eventsAccepted.inc({ type: event.type });
        }
        await store(group.events, group.source);
      }
      return { kind: 'accepted', body: { successes: [], errors: [] } };
    },
    async ingest(request) {
      const reason = notAcceptingReason();
      if (reason) return refusal(reason);
      // An SDK-sized batch is validated in one go; a large one in slices that yield to other
      // requests, after which the spool may have filled or a shutdown begun.
      let validation;
      if (request.batch.length <= SLICED_VALIDATION_ABOVE) validation = validateBatch(request.batch, options.validationLimits);
      else {
        validation = await validateBatchSliced(request.batch, options.validationLimits);
        const later = notAcceptingReason();
        if (later) return refusal(later);
      }
      for (const event of validation.accepted) {
        metrics.eventsReceived.inc({ type: event.type });
        metrics.eventsAccepted.inc({ type: event.type });
      }
      for (const rejection of validation.rejected) {
        // The type is whatever the client sent: only known types become label values.
        const type = KNOWN_TYPES.has(rejection.type) ? rejection.type : 'unknown';
        metrics.eventsReceived.inc({ type });
        metrics.eventsRejected.inc({ type });
      }
      if (validation.sdkLogs > 0) {
        metrics.eventsReceived.inc({ type: 'sdk-log' }, validation.sdkLogs);
        metrics.eventsDropped.inc({ reason: 'sdk_log' }, validation.sdkLogs);
      }
      if (validation.accepted.length > 0) {
        const source = toRequestSource(request.metadata, request.headers);
        await store(validation.accepted, request.tenant !== undefined ? { ...source, tenant: request.tenant } : source);
      }
      return {
        kind: 'accepted',
        body: {
          successes: langfuseOrder(validation.accepted).map((e) => ({ id: e.id, status: 201 as const })),
          errors: validation.rejected.map(({ type: _type, ...rest }) => rest),
        },
      };
    },
  };
}

/** Langfuse lists successes with non-update events first, each group by envelope timestamp. */
function langfuseOrder(events: readonly IngestionEvent[]): IngestionEvent[] {
  return events
    .map((event, index) => ({ event, index, update: isUpdateType(event.type) ? 1 : 0, at: validatedTimestampNanos(event.timestamp) }))
    .sort((a, b) => a.update - b.update || (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index))
    .map((x) => x.event);
}
