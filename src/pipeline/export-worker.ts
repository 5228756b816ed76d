// The one place that retries exports, one worker per destination: reads that destination's spans
// from the durable export queue in order, sends them in batches through its QueueSink, deletes what
// the backend accepted, backs off on retryable outcomes (exponential with jitter, at least the
// backend's Retry-After) and dead-letters permanent ones. A destination that is down only grows
// its own part of the queue (on disk); it never delays another destination.
// A send the store cannot record (its dequeue fails: disk full) is not held back: the worker sends
// anyway and keeps the record in memory (the ids, within MAX_UNRECORDED_SPANS) until the store
// takes it, skipping those spans meanwhile. A crash before then sends them again: a duplicate is
// better than spans never delivered (issue 16: a full disk used to stop every send for good).
// Lifecycle: start → (wake)* → shutdown(deadline). Time comes from the injected Clock only.
import { sleepOn, type Clock } from '../clock.js';
import type { QueueSink } from '../export/span-sink.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import { isDiskFullError } from '../spool/disk-reserve.js';
import type { ExportQueue, QueuedItem } from '../spool/export-queue.js';
import { createExportFailureReport } from './export-failure-report.js';

/**
 * Answered spans whose record waits in memory (about 8 bytes each): past this the worker stops
 * sending until the store takes records again, so memory stays bounded whatever the backlog.
 */
export const MAX_UNRECORDED_SPANS = 100_000;
/** How often records kept in memory are offered to the store again when nothing else runs. */
const RECORD_RETRY_MILLIS = 1000;

type DeadLetterNote = { destination: string; reason: string; atMillis: number };

/** What a worker needs of the export queue (the store's, or the gateway's in memory). */
export type ExportQueueView = Pick<ExportQueue, 'peek' | 'dequeue' | 'queuedItems'>;

export interface ExportWorkerOptions {
  /** The part of the export queue it sends: a destination's name, or its scores queue. */
  destination: string;
  /** The `destination` label of its metrics: the destination's name. @defaultValue destination */
  metricsDestination?: string;
  /** The `tenant` label of the per-tenant exported counter. @defaultValue 'default' */
  tenant?: string;
  /** What the queue holds, for the exported counter. @defaultValue 'spans' */
  items?: 'spans' | 'scores';
  sink: QueueSink;
  queue: ExportQueueView;
  metrics: BridgeMetrics;
  logger: Logger;
  clock: Clock;
  batchSize: number;
  initialBackoffMillis?: number;
  maxBackoffMillis?: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
  /**
   * How long a wake waits for more spans before sending less than a full batch, as the Collector's
   * batch processor does: under load, one request per batch instead of one per ingested request.
   * @defaultValue 0
   */
  lingerMillis?: number;
  /** Said once per outage when the backend cannot be reached: what to set. */
  connectHint?: string;
  /** Repeated failures are logged as one summary per interval. @defaultValue 60_000 */
  failureSummaryMillis?: number;
}

export interface ExportWorker {
  readonly destination: string;
  start(): void;
  /** Spans were queued: send them now unless backing off. */
  wake(): void;
  /**
   * Stops taking wakes, then sends until this destination's queue is empty or the deadline
   * passes, waiting out backoffs. Never outlasts the deadline, even with a send in flight (its
   * spans stay queued). Resolves true when the queue is empty.
   */
  shutdown(deadlineMillis: number): Promise<boolean>;
  /** True while the backend is failing and the worker is backing off. */
  isBackingOff(): boolean;
}

type TurnResult = 'progress' | 'idle' | 'failed';

export function createExportWorker(options: ExportWorkerOptions): ExportWorker {
  const { destination, sink, queue, metrics, logger, clock, batchSize } = options;
  const initialBackoff = options.initialBackoffMillis ?? 500;
  const maxBackoff = options.maxBackoffMillis ?? 30_000;
  const random = options.random ?? Math.random;
  // A Langfuse destination's scores queue is counted under the destination's own name.
  const labels = { destination: options.metricsDestination ?? destination };
  const exported = options.items === 'scores' ? metrics.scoresExported : metrics.spansExported;
  const tenantLabels = { ...labels, tenant: options.tenant ?? 'default' };
  const lingerMillis = options.lingerMillis ?? 0;
  const failures = createExportFailureReport({
    destination,
    logger,
    clock,
    ...(options.connectHint !== undefined ? { connectHint: options.connectHint } : {}),
    ...(options.failureSummaryMillis !== undefined ? { summaryIntervalMillis: options.failureSummaryMillis } : {}),
  });
  let cancelLinger: (() => void) | undefined;
  let started = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  let backoffMillis = 0;
  let resumeAtMillis = 0;
  let cancelResume: (() => void) | undefined;
  // Set when a drain gives up on a send still in flight: the store may be closed by the time it
  // answers, so its outcome is not settled (the spans stay queued and go again next start).
  let abandoned = false;
  // Answered sends whose dequeue the store refused (disk full), oldest first: those spans must not
  // be sent again, so peeks start after `answeredThroughId` and the dequeues are offered again.
  const unrecorded: Array<{ ids: readonly number[]; deadLetter?: DeadLetterNote }> = [];
  let unrecordedSpans = 0;
  let answeredThroughId = 0;
  let cancelRecordRetry: (() => void) | undefined;

  /** Records an answered send (dequeue); kept in memory when the store cannot write it now. */
  function settle(ids: readonly number[], deadLetter?: DeadLetterNote): void {
    for (const id of ids) if (id > answeredThroughId) answeredThroughId = id;
    if (unrecorded.length === 0) {
      try {
        queue.dequeue(ids, deadLetter);
        return;
      } catch (error) {
        keep(ids, deadLetter);
        if (!isDiskFullError(error)) throw error;
        logger.warn({ destination, spans: ids.length }, 'the store cannot record exports (disk full): kept in memory; sending goes on');
        return;
      }
    }
    keep(ids, deadLetter);
  }

  function keep(ids: readonly number[], deadLetter?: DeadLetterNote): void {
    unrecorded.push(deadLetter ? { ids, deadLetter } : { ids });
    unrecordedSpans += ids.length;
    scheduleRecordRetry();
  }

  /** Offers the kept records to the store, oldest first; stops at the first it refuses. */
  function recordKept(): void {
    while (unrecorded.length > 0) {
      const next = unrecorded[0]!;
      try {
        queue.dequeue(next.ids, next.deadLetter);
      } catch (error) {
        if (!isDiskFullError(error)) throw error;
        return;
      }
      unrecorded.shift();
      unrecordedSpans -= next.ids.length;
    }
  }

  function scheduleRecordRetry(): void {
    if (cancelRecordRetry || unrecorded.length === 0) return;
    cancelRecordRetry = clock.setTimer(() => {
      cancelRecordRetry = undefined;
      if (running) return scheduleRecordRetry();
      try {
        recordKept();
      } catch (error) {
        logger.error({ destination, err: error }, 'could not record exports kept in memory; will retry');
      }
      if (unrecorded.length > 0) scheduleRecordRetry();
      // Sending may have paused at the budget of records kept in memory.
      else if (!stopped) run();
    }, RECORD_RETRY_MILLIS);
  }

  async function turn(): Promise<TurnResult> {
    recordKept();
    // The records kept in memory are a budget: past it, wait for the store rather than grow.
    if (unrecordedSpans >= MAX_UNRECORDED_SPANS) {
      scheduleRecordRetry();
      return 'idle';
    }
    const spans = queue.peek(destination, answeredThroughId, batchSize);
    if (spans.length === 0) return 'idle';
    return sendSpans(spans);
  }

  async function sendSpans(spans: readonly QueuedItem[]): Promise<TurnResult> {
    const outcome = await sink.send(spans.map((s) => s.payload));
    if (abandoned) {
      logger.warn({ destination, spans: spans.length, outcome: outcome.kind }, 'an export answered after the shutdown deadline; its spans stay queued');
      return 'idle';
    }
    switch (outcome.kind) {
      case 'success':
        backoffMillis = 0;
        failures.succeeded();
        exported.inc(labels, spans.length - outcome.rejectedSpans);
        metrics.tenantItemsExported.inc(tenantLabels, spans.length - outcome.rejectedSpans);
        if (outcome.rejectedSpans > 0) {
          metrics.spansRejectedByBackend.inc(labels, outcome.rejectedSpans);
          logger.warn({ destination, rejectedSpans: outcome.rejectedSpans, message: outcome.message }, 'backend accepted the export partially');
        }
        settle(spans.map((s) => s.id));
        return 'progress';
      case 'permanent': {
        backoffMillis = 0;
        metrics.exportFailures.inc({ ...labels, kind: 'permanent' });
        // A refusal of the payload itself (400, or spans that cannot be encoded) may come from one
        // bad span: halve the batch until it is isolated, so that only that span is dead-lettered.
        // Other refusals (401, 403, 404: configuration) concern every span alike.
        if (spans.length > 1 && (outcome.httpStatus === undefined || outcome.httpStatus === 400)) {
          const middle = Math.ceil(spans.length / 2);
          const first = await sendSpans(spans.slice(0, middle));
          return first === 'progress' ? sendSpans(spans.slice(middle)) : first;
        }
        metrics.deadLettered.inc(labels, spans.length);
        logger.error({ destination, spans: spans.length, reason: outcome.reason }, 'backend refused spans for good; moved to dead letters');
        settle(
          spans.map((s) => s.id),
          { destination, reason: outcome.reason, atMillis: clock.now() },
        );
        return 'progress';
      }
      case 'retryable': {
        metrics.exportFailures.inc({ ...labels, kind: 'retryable' });
        const wait = backOff(outcome.retryAfterMillis);
        failures.failed(outcome.reason, spans.length, wait);
        return 'failed';
      }
    }
  }

  /** The next exponential step with jitter, never below the backend's Retry-After; returns the wait. */
  function backOff(retryAfterMillis?: number): number {
    backoffMillis = Math.min(maxBackoff, backoffMillis === 0 ? initialBackoff : backoffMillis * 2);
    const wait = Math.max(retryAfterMillis ?? 0, backoffMillis / 2 + random() * (backoffMillis / 2));
    resumeAtMillis = clock.now() + wait;
    cancelResume?.();
    cancelResume = clock.setTimer(() => {
      cancelResume = undefined;
      // The timer is the authority: it may fire a millisecond before the wall clock says so.
      resumeAtMillis = 0;
      if (!stopped) run();
    }, wait);
    return wait;
  }

  /** A turn that cannot throw: a store error is not the backend's fault, but it backs off the same way. */
  async function safeTurn(): Promise<TurnResult> {
    try {
      return await turn();
    } catch (error) {
      metrics.exportFailures.inc({ ...labels, kind: 'internal' });
      const wait = backOff();
      logger.error({ destination, err: error, retryInMillis: Math.round(wait) }, 'export turn failed; will retry');
      return 'failed';
    }
  }

  /** Sends batch after batch until the queue is empty or a send fails (the backoff timer resumes). */
  async function loop(): Promise<void> {
    while (!stopped && clock.now() >= resumeAtMillis) {
      if ((await safeTurn()) !== 'progress') return;
    }
  }

  function run(): void {
    if (running || stopped || !started) return;
    running = loop()
      .catch((error: unknown) => logger.error({ destination, err: error }, 'export loop failed'))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    destination,
    start() {
      started = true;
      run();
    },
    wake() {
      if (clock.now() < resumeAtMillis || running || stopped) return;
      if (lingerMillis === 0 || queue.queuedItems(destination) >= batchSize) {
        cancelLinger?.();
        cancelLinger = undefined;
        run();
        return;
      }
      cancelLinger ??= clock.setTimer(() => {
        cancelLinger = undefined;
        run();
      }, lingerMillis);
    },
    isBackingOff: () => clock.now() < resumeAtMillis,
    async shutdown(deadlineMillis) {
      stopped = true;
      cancelResume?.();
      cancelLinger?.();
      const work = (async () => {
        await running;
        while (clock.now() < deadlineMillis) {
          if (clock.now() < resumeAtMillis) {
            await sleepOn(clock, Math.min(resumeAtMillis, deadlineMillis) - clock.now());
            continue;
          }
          if ((await safeTurn()) === 'idle') return;
        }
      })().catch((error: unknown) => logger.error({ destination, err: error }, 'final export failed'));
      const settled = await new Promise<boolean>((resolve) => {
        const cancel = clock.setTimer(() => resolve(false), Math.max(0, deadlineMillis - clock.now()));
        void work.then(() => {
          cancel();
          resolve(true);
        });
      });
      cancelRecordRetry?.();
      try {
        recordKept();
      } catch (error) {
        logger.error({ destination, err: error }, 'could not record the last exports');
      }
      if (unrecorded.length > 0) {
        logger.warn({ destination, spans: unrecordedSpans }, 'exports the store could not record (disk full) stay queued and go again next start');
      }
      if (!settled) {
        abandoned = true;
        logger.warn({ destination }, 'an export was still in flight at the shutdown deadline; its spans stay queued');
        return false;
      }
      return queue.queuedItems(destination) === 0;
    },
  };
}
