// The HTTP contract's answers to the pipeline's outcomes (DESIGN §3), each written in one place:
// the 207 body (Langfuse's order of successes), the refusal messages and their Retry-After, and
// the answer when the store could not take a request. Plain data and one header setter; the
// routes choose the shape (Langfuse JSON or an OTLP Status) and send it.
import type { ServerResponse } from 'node:http';
import type { EventRejection, IngestionEvent } from '../ingestion/ingestion-event.js';
import { validatedTimestampNanos } from '../ingestion/timestamp.js';
import { isUpdateType } from '../ingestion/validate-batch.js';
import type { RefusalReason } from '../pipeline/ingest-pipeline.js';

export interface IngestionResponseBody {
  successes: Array<{ id: string; status: 201 }>;
  errors: Array<Omit<EventRejection, 'type'>>;
}

const REFUSALS: Record<RefusalReason, { retryAfterSeconds: number; message: string }> = {
  shutting_down: { retryAfterSeconds: 5, message: 'the bridge is shutting down' },
  replaying: { retryAfterSeconds: 2, message: 'the bridge is replaying its store after a restart' },
  spool_full: { retryAfterSeconds: 10, message: 'the spool is full: the backend is not keeping up' },
  memory_limit: { retryAfterSeconds: 5, message: 'the bridge is at its memory limit (BRIDGE_MEMORY_LIMIT_MIB)' },
  disk_full: { retryAfterSeconds: 10, message: 'the disk holding the store is full: new batches are refused until space frees' },
  log_unavailable: { retryAfterSeconds: 5, message: 'the shared log (Kafka) did not acknowledge the events: nothing was accepted' },
};

/** Retry-After of a request the store could not take (nothing was acknowledged). */
const STORE_FAILED_RETRY_AFTER_SECONDS = 10;

/** Why the bridge does not take a request now: a refusal, or a store that failed to write. */
export type Unavailable = { kind: 'refused'; reason: RefusalReason } | { kind: 'store_failed' };

/** What a refusal says, for `/api/public/ready` too. */
export function refusalMessage(reason: RefusalReason): string {
  return REFUSALS[reason].message;
}

/** The message of a 503, naming what could not be stored (`batch`, `spans`, `score`). */
export function unavailableMessage(outcome: Unavailable, what: string): string {
  return outcome.kind === 'refused' ? refusalMessage(outcome.reason) : `The bridge could not store the ${what}; retry later.`;
}

/** The Langfuse JSON body of a 503. */
export function unavailableBody(outcome: Unavailable, what: string): { error: string; message: string } {
  return { error: 'ServiceUnavailableError', message: unavailableMessage(outcome, what) };
}

/** Sets the status and Retry-After of a 503: every client retries it after that many seconds. */
export function markUnavailable(res: ServerResponse, outcome: Unavailable): void {
  res.statusCode = 503;
  res.setHeader('Retry-After', String(outcome.kind === 'refused' ? REFUSALS[outcome.reason].retryAfterSeconds : STORE_FAILED_RETRY_AFTER_SECONDS));
}

/** The 207 body: Langfuse lists successes with non-update events first, each group by envelope timestamp. */
export function ingestionResponseBody(accepted: readonly IngestionEvent[], rejected: readonly EventRejection[]): IngestionResponseBody {
  const successes = accepted
    .map((event, index) => ({ event, index, update: isUpdateType(event.type) ? 1 : 0, at: validatedTimestampNanos(event.timestamp) }))
    .sort((a, b) => a.update - b.update || (a.at < b.at ? -1 : a.at > b.at ? 1 : a.index - b.index))
    .map((x) => ({ id: x.event.id, status: 201 as const }));
  return { successes, errors: rejected.map(({ type: _type, ...rest }) => rest) };
}
