// The ingestion path, in order: validate → spool (durable) → assemble → wake the exporter, and the
// Langfuse 207 answer. The only module that orders the stages; never sees a request object.
import type { Assembler } from '../assembly/assembler.js';
import { EVENT_TYPES, type BatchValidation, type EventRejection, type IngestionEvent } from '../ingestion/ingestion-event.js';
import { toRequestSource } from '../ingestion/request-source.js';
import { parseTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType, validateBatch, type ValidationLimits } from '../ingestion/validate-batch.js';
import { SLICED_VALIDATION_ABOVE, validateBatchSliced } from '../ingestion/validate-batch-sliced.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { Spool } from '../spool/spool.js';
import type { ExportWorker } from './export-worker.js';

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

export interface IngestRequest {
  batch: readonly unknown[];
  metadata: unknown;
  /** Lower-case header names, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
}

export interface IngestionResponseBody {
  successes: Array<{ id: string; status: 201 }>;
  errors: Array<Omit<EventRejection, 'type'>>;
}

export type IngestAnswer =
  | { status: 207; body: IngestionResponseBody }
  | { status: 503; retryAfterSeconds: number; body: { error: string; message: string } };

export interface IngestPipeline {
  /** Synchronous for SDK-sized batches; a large batch is validated in slices (a Promise). */
  ingest(request: IngestRequest): IngestAnswer | Promise<IngestAnswer>;
  /** False while the spool is over its limit or the service is shutting down. */
  isAccepting(): boolean;
  /** Why it is not accepting, for /ready and 503 bodies. */
  notAcceptingReason(): string | undefined;
  /** The 503 answer for a refused request (counted). */
  refusal(reason: string): Extract<IngestAnswer, { status: 503 }>;
  beginShutdown(): void;
  /** Feeds every spool entry kept from a previous run into the assembler. Returns how many. */
  replay(): number;
}

export interface IngestPipelineOptions {
  spool: Spool;
  assembler: Assembler;
  worker: ExportWorker;
  metrics: BridgeMetrics;
  logger: Logger;
  spoolMaxBytes: number;
  validationLimits?: Partial<ValidationLimits>;
  now?: () => number;
}

export function createIngestPipeline(options: IngestPipelineOptions): IngestPipeline {
  const { spool, assembler, worker, metrics, logger, spoolMaxBytes } = options;
  const now = options.now ?? Date.now;
  let shuttingDown = false;

  const notAcceptingReason = (): string | undefined => {
    if (shuttingDown) return 'the bridge is shutting down';
    if (spool.pendingBytes() >= spoolMaxBytes) return 'the spool is full: the backend is not keeping up';
    return undefined;
  };

  function refusal(reason: string): Extract<IngestAnswer, { status: 503 }> {
    metrics.requestsRejected.inc({ reason: shuttingDown ? 'shutting_down' : 'spool_full' });
    return { status: 503, retryAfterSeconds: shuttingDown ? 5 : 10, body: { error: 'ServiceUnavailableError', message: reason } };
  }

  function assemble(entry: ReturnType<Spool['append']>): void {
    const result = assembler.ingest(entry, now());
    if (result.duplicates > 0) metrics.duplicateEvents.inc(result.duplicates);
    if (result.dropped > 0) metrics.eventsDropped.inc({ reason: 'no_body_id' }, result.dropped);
    if (result.lateUpdates > 0) {
      metrics.lateUpdates.inc(result.lateUpdates);
      logger.info({ lateUpdates: result.lateUpdates, seq: entry.seq }, 'updates for spans already exported were counted, not exported');
    }
    if (result.releasable) spool.release([entry.seq]);
  }

  return {
    isAccepting: () => notAcceptingReason() === undefined,
    notAcceptingReason,
    beginShutdown() {
      shuttingDown = true;
    },
    replay() {
      const entries = spool.replay();
      for (const entry of entries) assemble(entry);
      return entries.length;
    },
    refusal,
    ingest(request) {
      const reason = notAcceptingReason();
      if (reason) return refusal(reason);
      if (request.batch.length <= SLICED_VALIDATION_ABOVE) return store(request, validateBatch(request.batch, options.validationLimits));
      return validateBatchSliced(request.batch, options.validationLimits).then((validation) => {
        // Other requests ran meanwhile: the spool may have filled or a shutdown begun.
        const later = notAcceptingReason();
        return later ? refusal(later) : store(request, validation);
      });
    },
  };

  function store(request: IngestRequest, validation: BatchValidation): IngestAnswer {
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
      // The 207 below promises durability: the entry is committed before it is built.
      const entry = spool.append({
        receivedAtMillis: now(),
        source: toRequestSource(request.metadata, request.headers),
        events: validation.accepted,
      });
      assemble(entry);
      worker.wake();
    }
    return {
      status: 207,
      body: {
        successes: langfuseOrder(validation.accepted).map((e) => ({ id: e.id, status: 201 as const })),
        errors: validation.rejected.map(({ type: _type, ...rest }) => rest),
      },
    };
  }
}

/** Langfuse lists successes with non-update events first, each group by envelope timestamp. */
function langfuseOrder(events: readonly IngestionEvent[]): IngestionEvent[] {
  return events
    .map((event, index) => ({ event, index, update: isUpdateType(event.type) ? 1 : 0, at: parseTimestampNanos(event.timestamp) }))
    .sort((a, b) => a.update - b.update || (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index))
    .map((x) => x.event);
}
