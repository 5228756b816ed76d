// The pipeline, in order: validate → log (durable) → assemble (incremental merge) on the request
// path; then, off it and in slices, completed records → mapping (per destination) → encoding →
// export queue (one atomic commit with their tombstones), then the log entries they settle are
// released (a separate, idempotent step, retried until it succeeds). The only module that
// orders the stages; its entry points take decoded requests and return plain outcomes, store
// failures included; it never sees a request object nor decides an HTTP status (the receiver does).
import { randomUUID } from 'node:crypto';
import type { Assembler, CollectMode, IngestResult } from '../assembly/assembler.js';
import type { CompletedRecord } from '../assembly/completed-record.js';
import { encodeRecord } from '../assembly/record-codec.js';
import { sleepOn, type Clock } from '../clock.js';
import { EVENT_TYPES, type EventRejection, type IngestionEvent } from '../ingestion/ingestion-event.js';
import type { OtlpTraceRequest } from '../ingestion/otlp-span.js';
import { convertOtlpRequest } from '../ingestion/otlp-to-events.js';
import { toRequestSource, type RequestSource } from '../ingestion/request-source.js';
import { validateBatch, type ValidationLimits } from '../ingestion/validate-batch.js';
import { SLICED_VALIDATION_ABOVE, validateBatchSliced } from '../ingestion/validate-batch-sliced.js';
import type { Logger } from '../logger.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import type { BridgeMetrics } from '../metrics.js';
import type { ExportQueue, NewDeadLetter, QueueCommit } from '../spool/export-queue.js';
import { isUnreadable, type LogEntry, type RequestLog } from '../spool/request-log.js';
import { mapAndEncode, takesRecord, type PipelineDestination } from './map-record.js';
import { exceedsMemoryBudget, processMemory, type MemoryReading } from './memory-budget.js';

/** A QueueCommit being built (its lists still growing). */
interface OpenCommit extends QueueCommit {
  items: Array<QueueCommit['items'][number]>;
  deadLetters: NewDeadLetter[];
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export interface IngestRequest {
  batch: readonly unknown[];
  metadata: unknown;
  /** Lower-case header names, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** The tenant whose keys authenticated it, when tenants are configured (a boundary: it goes on the source). */
  tenant?: string;
}

export type RefusalReason = 'shutting_down' | 'replaying' | 'spool_full' | 'memory_limit' | 'disk_full' | 'log_unavailable';

/**
 * Gateway mode: the log shared by every replica (a Kafka topic, gateway/kafka-request-log.ts).
 * The RequestLog port's `append` is durable when it returns, which a broker write cannot be; the
 * shared log's is a promise, settled once every record was acknowledged. Accepted events are
 * assembled by whichever replica owns their partition (gateway/partition-assembly.ts), not here.
 */
export interface SharedRequestLog {
  /** True once every group is durable in the log; false when the log could not take them in time. */
  append(groups: ReadonlyArray<{ source: RequestSource; events: IngestionEvent[] }>, receivedAtMillis: number): Promise<boolean>;
  /** False while the log is known to be unreachable (ready 503, requests refused at once). */
  writable(): boolean;
}

/** Not taken now: the client may send the same request again later. */
export type Refused = { kind: 'refused'; reason: RefusalReason };
/** The store could not take the request (disk full, I/O error): nothing was acknowledged. */
export type StoreFailed = { kind: 'store_failed' };

/** A Langfuse batch: the events stored, and the ones refused (each with its reason). */
export type IngestOutcome = { kind: 'accepted'; accepted: IngestionEvent[]; rejected: EventRejection[] } | Refused | StoreFailed;
/** An OTLP export: how many spans were refused, and why (OTLP's partial success). */
export type OtlpOutcome = { kind: 'accepted'; acceptedSpans: number; rejectedSpans: number; errorMessage: string } | Refused | StoreFailed;
/** One score of the score API: its id, or why it is invalid. */
export type ScoreOutcome = { kind: 'accepted'; id: string } | { kind: 'invalid'; message: string; error: string } | Refused | StoreFailed;

export interface IngestPipeline {
  /** Validates, stores and assembles one Langfuse batch. */
  ingest(request: IngestRequest): Promise<IngestOutcome>;
  /** Converts a decoded OTLP export to events, stores them (one log entry per resource) and assembles them. */
  ingestOtlp(request: OtlpTraceRequest, headers: IngestRequest['headers'], tenant?: string): Promise<OtlpOutcome>;
  /** Stores one score of the score API (the body of a score-create event) as a validated event. */
  ingestScore(body: Record<string, unknown>, headers: IngestRequest['headers'], tenant?: string): Promise<ScoreOutcome>;
  /** Why it is not accepting (spool or memory budget reached, replaying, shutting down), if so. */
  notAcceptingReason(): RefusalReason | undefined;
  /** A request arrives: refused now (counted), or undefined. Receivers ask before reading a body. */
  admit(): Refused | undefined;
  /**
   * Feeds every log entry kept from a previous run into assembly, in slices (ingestion is closed
   * meanwhile), then starts the timer that queues what turned complete by waiting (idle traces,
   * timeouts). Resolves with the entries replayed.
   */
  start(): Promise<number>;
  /** Queues everything `mode` collects now, in one go (tests). Returns the records queued. */
  flush(mode: CollectMode): number;
  /**
   * Refuses new requests at once; once `requestsDone` (those in flight) and the start settled,
   * queues what is complete before `deadlineMillis`: traces still turning idle get their idle
   * time, and a log that does not survive the process queues everything, complete or not. Then
   * stops its timer. Resolves true when nothing complete was left behind.
   */
  shutdown(deadlineMillis: number, requestsDone?: Promise<unknown>): Promise<boolean>;
}

export interface IngestPipelineOptions {
  log: RequestLog;
  queue: ExportQueue;
  assembler: Assembler;
  destinations: readonly PipelineDestination[];
  /** Items were queued (the export workers wake). */
  onQueued: () => void;
  /**
   * Listens to the span drafts queued for the first destination, once their commit succeeded
   * (GenAI metrics are derived from them: the queue then delivers them at least once).
   */
  onDraftsQueued?: (drafts: readonly SpanDraft[]) => void;
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
  /** BRIDGE_TRACE_IDLE_MS: how long a shutdown waits for complete traces to turn idle. */
  traceIdleMillis: number;
  /**
   * Gateway mode: events go to this shared log instead of `log` and `assembler` (which then stay
   * empty). The disk and memory budgets do not refuse requests: the topic is the backlog, and
   * the consumers pause fetching at their own budget.
   */
  sharedLog?: SharedRequestLog;
}

/**
 * Records per slice and the time a slice may hold the event loop. Measured (/tmp script on the
 * built bridge, LiteLLM fixture): mapping and encoding one record takes ~26 µs, so a slice of 64
 * is ~1.7 ms. A worker thread would take that off the main thread, but each record would be
 * copied to it (structured clone: ~7 µs) and its payloads copied back to the one SQLite
 * connection, which must stay on this thread to commit the queue; slices
 * already keep each hold under ~4 ms, so the simpler design was kept (the worker variant was not
 * built and measured end to end).
 */
export const RECORDS_PER_SLICE = 64;
export const SLICE_MILLIS = 4;
/** Memory is read at most this often (cheap, not free). */
const MEMORY_SAMPLE_MILLIS = 50;

export type { MemoryReading } from './memory-budget.js';

export function createIngestPipeline(options: IngestPipelineOptions): IngestPipeline {
  const { log, queue, assembler, destinations, metrics, logger, clock, spoolMaxBytes, memoryLimitBytes } = options;
  const readMemory = options.memory ?? processMemory;
  const tickMillis = options.tickMillis ?? 100;
  const storeWritable = options.storeWritable ?? (() => true);
  let shuttingDown = false;
  const sharedLog = options.sharedLog;
  // Closed until the store is replayed (`replay`, from the service's start); a shared log has nothing to replay here.
  let replaying = sharedLog === undefined;
  let stopped = false;
  let sliceScheduled = false;
  let cancelTick: (() => void) | undefined;
  let sampledAt = -Infinity;
  let over = false;

  function overMemory(): boolean {
    const t = performance.now();
    if (t - sampledAt >= MEMORY_SAMPLE_MILLIS) {
      const m = readMemory();
      over = exceedsMemoryBudget(m, memoryLimitBytes);
      sampledAt = t;
    }
    return over;
  }

  function notAcceptingReason(): RefusalReason | undefined {
    if (shuttingDown) return 'shutting_down';
    if (replaying) return 'replaying';
    if (sharedLog) return sharedLog.writable() ? undefined : 'log_unavailable';
    if (log.pendingBytes() + queue.queuedBytes() >= spoolMaxBytes) return 'spool_full';
    if (!storeWritable()) return 'disk_full';
    if (overMemory()) return 'memory_limit';
    return undefined;
  }

  function refusal(reason: RefusalReason): Refused {
    metrics.requestsRejected.inc({ reason });
    return { kind: 'refused', reason };
  }

  function admit(): Refused | undefined {
    const reason = notAcceptingReason();
    return reason ? refusal(reason) : undefined;
  }

  function countIngest(result: IngestResult, seq: number): void {
    if (result.duplicates > 0) metrics.duplicateEvents.inc(result.duplicates);
    if (result.dropped > 0) metrics.eventsDropped.inc({ reason: 'no_body_id' }, result.dropped);
    if (result.lateUpdates > 0) {
      metrics.lateUpdates.inc(result.lateUpdates);
      logger.info({ lateUpdates: result.lateUpdates, seq }, 'updates for spans already exported were counted, not exported');
    }
  }

  function assemble(entry: LogEntry): void {
    const result = assembler.ingest(entry, clock.now());
    countIngest(result, entry.seq);
    if (result.refolds > 0) metrics.refolds.inc(result.refolds);
    if (result.releasable) release([entry.seq]);
  }

  // Log entries whose entities are queued but whose release failed (a store that cannot write
  // now): released again before the next commit. Bounded: a store that cannot write refuses
  // new batches, so no new entries are settled meanwhile.
  let unreleased: number[] = [];
  function release(seqs: readonly number[]): void {
    const all = unreleased.length > 0 ? [...unreleased, ...seqs] : seqs;
    if (all.length === 0) return;
    try {
      log.release(all);
      unreleased = [];
    } catch (error) {
      unreleased = [...all];
      logger.warn({ err: error, entries: all.length }, 'could not release log entries whose work is queued; will retry');
    }
  }

  /** Maps, encodes and queues one collection; returns how many entities it settled. */
  function queueCollected(mode: CollectMode, limit: number): number {
    const collected = assembler.collect(clock.now(), limit, mode);
    if (collected.keys.length === 0) return 0;
    const commit: OpenCommit = { items: [], tombstones: collected.tombstones, deadLetters: [] };
    const drafts: SpanDraft[] = [];
    destinations.forEach((destination, index) => {
      // The first destination's drafts (all its tenants' lanes) feed the GenAI metrics.
      const feedsMetrics = destination.feedsMetrics ?? index === 0;
      for (const record of collected.records) queueRecord(destination, record, commit, feedsMetrics && options.onDraftsQueued ? drafts : undefined);
    });
    queue.commit(commit, clock.now());
    assembler.confirm(collected);
    release(collected.releaseSeqs);
    if (drafts.length > 0) options.onDraftsQueued?.(drafts);
    if (commit.items.length > 0) options.onQueued();
    return collected.keys.length;
  }

  function queueRecord(destination: PipelineDestination, record: CompletedRecord, commit: OpenCommit, drafts: SpanDraft[] | undefined): void {
    try {
      if (!takesRecord(destination, record)) return;
      const item = mapAndEncode(destination, record);
      commit.items.push({ queue: item.queue, payload: item.payload });
      if (drafts && item.draft) drafts.push(item.draft);
    } catch (error) {
      // The same record would fail the same way again: it is kept aside (as JSON, re-mapped by
      // `dead-letters retry`), never retried in a loop.
      const reason = `could not map or encode the span: ${error instanceof Error ? error.message : String(error)}`;
      commit.deadLetters.push({ destination: destination.name, holds: 'record', reason, payloads: [Buffer.from(encodeRecord(record))], spanCount: 1 });
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

  /**
   * Stores each group as one log entry, then assembles it. The answer promises durability: an
   * entry is committed before it is assembled. A store error is an outcome: nothing of a request
   * is acknowledged unless all of it was stored (a resend is deduplicated by envelope id).
   */
  async function store(
    given: ReadonlyArray<{ source: RequestSource; events: IngestionEvent[] }>,
    what: string,
    tenant: string | undefined,
  ): Promise<StoreFailed | Refused | undefined> {
    // The tenant's name (never its secret) is stored with each entry (and each Kafka record):
    // assembly keys by it after a restart too.
    const groups = tenant === undefined ? given : given.map((g) => ({ ...g, source: { ...g.source, tenant } }));
    if (sharedLog) {
      const nonEmpty = groups.filter((g) => g.events.length > 0);
      // Nothing acknowledged unless every record of the request was: the client sends it again.
      return nonEmpty.length === 0 || (await sharedLog.append(nonEmpty, clock.now())) ? undefined : refusal('log_unavailable');
    }
    try {
      for (const group of groups) {
        if (group.events.length === 0) continue;
        assemble(log.append({ receivedAtMillis: clock.now(), source: group.source, events: group.events }));
      }
    } catch (error) {
      logger.error({ err: error }, `could not store ${what}`);
      metrics.requestsRejected.inc({ reason: 'store_error' });
      return { kind: 'store_failed' };
    } finally {
      scheduleSlices('ready');
    }
    return undefined;
  }

  /** Counted once per type, not per event (prom-client hashes the labels on every call: 0.18 µs). */
  function countAccepted(events: readonly IngestionEvent[]): void {
    const byType = new Map<string, number>();
    for (const event of events) byType.set(event.type, (byType.get(event.type) ?? 0) + 1);
    for (const [type, count] of byType) {
      metrics.eventsReceived.inc({ type }, count);
      metrics.eventsAccepted.inc({ type }, count);
    }
  }

  let started: Promise<number> | undefined;
  let stopping: Promise<boolean> | undefined;
  function flush(mode: CollectMode): number {
    let total = 0;
    for (;;) {
      const n = queueCollected(mode, RECORDS_PER_SLICE * 16);
      total += n;
      if (n === 0 || n < RECORDS_PER_SLICE * 16) return total;
    }
  }

  /** Queues what is due until nothing pending is complete-but-not-idle, or `untilMillis`. */
  async function settleIdleTraces(untilMillis: number): Promise<void> {
    for (;;) {
      flush('due');
      if (assembler.settlingEntities() === 0) return;
      if (clock.now() >= untilMillis) return;
      await sleepOn(clock, Math.min(50, untilMillis - clock.now()));
    }
  }

  async function replay(): Promise<number> {
    replaying = true;
    let count = 0;
    let sliceStart = performance.now();
    try {
      for (const entry of log.replay()) {
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
  }

  return {
    notAcceptingReason,
    admit,
    start() {
      started ??= replay().then((count) => {
        if (!stopped) cancelTick = clock.setTimer(tick, tickMillis);
        return count;
      });
      return started;
    },
    flush,
    async shutdown(deadlineMillis, requestsDone) {
      shuttingDown = true;
      stopping ??= (async () => {
        await requestsDone;
        await started?.catch(() => 0);
        let complete = true;
        try {
          if (!log.durable) flush('all');
          else await settleIdleTraces(Math.min(deadlineMillis, clock.now() + options.traceIdleMillis + 100));
        } catch (error) {
          complete = false;
          logger.error({ err: error }, 'could not queue the last complete spans; they stay in the log');
        }
        stopped = true;
        cancelTick?.();
        return complete;
      })();
      return stopping;
    },
    async ingestOtlp(request, headers, tenant) {
      const conversion = convertOtlpRequest(request, { headers });
      if (conversion.rejectedSpans > 0) {
        metrics.eventsRejected.inc({ type: 'otlp-span' }, conversion.rejectedSpans);
        logger.info({ rejectedSpans: conversion.rejectedSpans, reason: conversion.errorMessage.slice(0, 500) }, 'OTLP spans rejected');
      }
      const refused = admit();
      if (refused) return refused;
      for (const group of conversion.groups) countAccepted(group.events);
      const acceptedSpans = conversion.groups.reduce((n, g) => n + g.events.length, 0);
      return (
        (await store(conversion.groups, 'an OTLP export', tenant)) ?? { kind: 'accepted', acceptedSpans, rejectedSpans: conversion.rejectedSpans, errorMessage: conversion.errorMessage }
      );
    },
    async ingestScore(body, headers, tenant) {
      // The score API's body is a score-create event's body; an id is made when none is given.
      const given = body.id;
      const id = typeof given === 'string' && given !== '' ? given : randomUUID();
      const validation = validateBatch([{ id: randomUUID(), type: 'score-create', timestamp: new Date(clock.now()).toISOString(), body: { ...body, id } }]);
      const rejection = validation.rejected[0];
      if (rejection) {
        metrics.eventsRejected.inc({ type: 'score-create' });
        return { kind: 'invalid', message: rejection.message, error: rejection.error };
      }
      const refused = admit();
      if (refused) return refused;
      countAccepted(validation.accepted);
      return (await store([{ source: toRequestSource(undefined, headers), events: validation.accepted }], 'a score', tenant)) ?? { kind: 'accepted', id };
    },
    async ingest(request) {
      const refused = admit();
      if (refused) return refused;
      // An SDK-sized batch is validated in one go; a large one in slices that yield to other
      // requests, after which the spool may have filled or a shutdown begun.
      let validation;
      if (request.batch.length <= SLICED_VALIDATION_ABOVE) validation = validateBatch(request.batch, options.validationLimits);
      else {
        validation = await validateBatchSliced(request.batch, options.validationLimits);
        const later = admit();
        if (later) return later;
      }
      countAccepted(validation.accepted);
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
      const failed =
        validation.accepted.length > 0
          ? await store([{ source: toRequestSource(request.metadata, request.headers), events: validation.accepted }], 'an ingestion batch', request.tenant)
          : undefined;
      return failed ?? { kind: 'accepted', accepted: validation.accepted, rejected: validation.rejected };
    },
  };
}
