// The one place that retries exports: takes ready drafts from the assembler, exports them in
// batches through the SpanSink, backs off on retryable outcomes (exponential with jitter, at least
// the backend's Retry-After), dead-letters permanent ones, and settles the spool afterwards.
import type { Assembler, ReadyItem } from '../assembly/assembler.js';
import type { SpanSink } from '../export/span-sink.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { Spool } from '../spool/spool.js';
import { encodeDrafts } from './draft-codec.js';

export interface ExportWorkerOptions {
  assembler: Assembler;
  sink: SpanSink;
  spool: Spool;
  metrics: BridgeMetrics;
  logger: Logger;
  batchSize: number;
  /** How often to look for ready spans when nothing wakes the worker. */
  tickMillis?: number;
  initialBackoffMillis?: number;
  maxBackoffMillis?: number;
  tombstoneRetentionMillis: number;
  now?: () => number;
}

export interface ExportWorker {
  /** Look for ready spans now (after an ingest). */
  wake(): void;
  /**
   * Exports what is ready until nothing is left or the deadline passes; with `force`, open
   * observations and non-idle traces too. Resolves true when everything was exported.
   */
  drain(deadlineMillis: number, force: boolean): Promise<boolean>;
  stop(): Promise<void>;
  /** True while the backend is failing and the worker is backing off. */
  isBackingOff(): boolean;
}

export function startExportWorker(options: ExportWorkerOptions): ExportWorker {
  const { assembler, sink, spool, metrics, logger, batchSize } = options;
  const tickMillis = options.tickMillis ?? 200;
  const initialBackoff = options.initialBackoffMillis ?? 500;
  const maxBackoff = options.maxBackoffMillis ?? 30_000;
  const now = options.now ?? Date.now;
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let backoffMillis = 0;
  let resumeAtMillis = 0;
  let lastPruneMillis = 0;

  /** One batch: returns whether it made progress (so the loop continues without waiting). */
  async function exportOnce(force: boolean): Promise<'progress' | 'idle' | 'failed'> {
    const items = assembler.collectReady(now(), batchSize, force);
    if (items.length === 0) return 'idle';
    const outcome = await sink.export(items.map((i) => i.draft));
    switch (outcome.kind) {
      case 'success':
        backoffMillis = 0;
        metrics.spansExported.inc(items.length - outcome.rejectedSpans);
        if (outcome.rejectedSpans > 0) {
          metrics.spansRejectedByBackend.inc(outcome.rejectedSpans);
          logger.warn({ rejectedSpans: outcome.rejectedSpans, message: outcome.message }, 'backend accepted the export partially');
        }
        settle(items);
        return 'progress';
      case 'permanent':
        backoffMillis = 0;
        metrics.exportFailures.inc({ kind: 'permanent' });
        metrics.deadLettered.inc(items.length);
        spool.addDeadLetter(outcome.reason, encodeDrafts(items.map((i) => i.draft)), items.length, now());
        logger.error({ spans: items.length, reason: outcome.reason }, 'backend refused spans for good; moved to dead letters');
        settle(items);
        return 'progress';
      case 'retryable': {
        metrics.exportFailures.inc({ kind: 'retryable' });
        assembler.retryLater(items);
        backoffMillis = Math.min(maxBackoff, backoffMillis === 0 ? initialBackoff : backoffMillis * 2);
        // Full jitter around the exponential step, never below the backend's Retry-After.
        const wait = Math.max(outcome.retryAfterMillis ?? 0, backoffMillis / 2 + Math.random() * (backoffMillis / 2));
        resumeAtMillis = now() + wait;
        logger.warn({ spans: items.length, reason: outcome.reason, retryInMillis: Math.round(wait) }, 'export failed; will retry');
        return 'failed';
      }
    }
  }

  function settle(items: readonly ReadyItem[]): void {
    const result = assembler.settle(items);
    spool.addTombstones(result.tombstones, now());
    if (result.releasableSeqs.length > 0) spool.release(result.releasableSeqs);
    if (result.lateUpdates > 0) {
      metrics.lateUpdates.inc(result.lateUpdates);
      logger.info({ lateUpdates: result.lateUpdates }, 'updates arrived while their span was being exported');
    }
    if (now() - lastPruneMillis > 60_000) {
      lastPruneMillis = now();
      spool.pruneTombstones(now() - options.tombstoneRetentionMillis);
    }
  }

  async function loop(force = false, deadlineMillis = Infinity): Promise<void> {
    while (!stopped || force) {
      if (now() < resumeAtMillis) {
        if (now() >= deadlineMillis) return;
        if (!force) return;
        await sleep(Math.min(resumeAtMillis, deadlineMillis) - now());
        continue;
      }
      if (now() >= deadlineMillis) return;
      const result = await exportOnce(force);
      if (result === 'idle' || (result === 'failed' && !force)) return;
    }
  }

  function run(): void {
    if (running || stopped) return;
    running = loop()
      .catch((error: unknown) => logger.error({ err: error }, 'export loop failed'))
      .finally(() => {
        running = undefined;
      });
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      run();
      schedule();
    }, tickMillis);
    timer.unref();
  }
  schedule();

  return {
    wake: () => {
      if (now() >= resumeAtMillis) run();
    },
    isBackingOff: () => now() < resumeAtMillis,
    async drain(deadlineMillis, force) {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await loop(force, deadlineMillis).catch((error: unknown) => logger.error({ err: error }, 'final export failed'));
      return assembler.pendingEntities() === 0;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, millis)));
}
