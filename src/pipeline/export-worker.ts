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
  /**
   * How long a drain waits, when nothing is ready, for complete traces to turn idle (the trace
   * idle time): no event arrives while draining, so every complete trace is ready by then.
   */
  drainSettleMillis?: number;
  now?: () => number;
}

export interface ExportWorker {
  /** Look for ready spans now (after an ingest). */
  wake(): void;
  /**
   * Stops the worker, then exports what is ready until nothing is left or the deadline passes,
   * waiting out backoffs and (up to `drainSettleMillis`) traces turning idle; with `force`, open
   * observations and non-idle traces too. Never outlasts the deadline, even with an export in
   * flight. Resolves true when everything was exported.
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
  // Set when a drain gives up on an export still in flight: the store may be closed by the time it
  // answers, so its outcome is not settled (the spans stay in the store and go again next start).
  let abandoned = false;

  /** One batch: returns whether it made progress (so the loop continues without waiting). */
  async function exportOnce(force: boolean): Promise<'progress' | 'idle' | 'failed'> {
    const items = assembler.collectReady(now(), batchSize, force);
    if (items.length === 0) return 'idle';
    return exportItems(items);
  }

  async function exportItems(items: readonly ReadyItem[]): Promise<'progress' | 'idle' | 'failed'> {
    const outcome = await sink.export(items.map((i) => i.draft));
    if (abandoned) {
      logger.warn({ spans: items.length, outcome: outcome.kind }, 'an export answered after the shutdown deadline; its spans stay in the store');
      return 'idle';
    }
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
      case 'permanent': {
        backoffMillis = 0;
        metrics.exportFailures.inc({ kind: 'permanent' });
        // A refusal of the payload itself (400, or spans that cannot be encoded) may come from one
        // bad span: halve the batch until it is isolated, so that only that span is dead-lettered.
        // Other refusals (401, 403, 404: configuration) concern every span alike.
        if (items.length > 1 && (outcome.httpStatus === undefined || outcome.httpStatus === 400)) {
          const middle = Math.ceil(items.length / 2);
          const first = await exportItems(items.slice(0, middle));
          if (first === 'progress') return exportItems(items.slice(middle));
          assembler.retryLater(items.slice(middle));
          return first;
        }
        metrics.deadLettered.inc(items.length);
        spool.addDeadLetter(outcome.reason, encodeDrafts(items.map((i) => i.draft)), items.length, now());
        logger.error({ spans: items.length, reason: outcome.reason }, 'backend refused spans for good; moved to dead letters');
        settle(items);
        return 'progress';
      }
      case 'retryable': {
        metrics.exportFailures.inc({ kind: 'retryable' });
        assembler.retryLater(items);
        const wait = backOff(outcome.retryAfterMillis);
        logger.warn({ spans: items.length, reason: outcome.reason, retryInMillis: Math.round(wait) }, 'export failed; will retry');
        return 'failed';
      }
    }
  }

  /** The next exponential step with jitter, never below the backend's Retry-After; returns the wait. */
  function backOff(retryAfterMillis?: number): number {
    backoffMillis = Math.min(maxBackoff, backoffMillis === 0 ? initialBackoff : backoffMillis * 2);
    const wait = Math.max(retryAfterMillis ?? 0, backoffMillis / 2 + Math.random() * (backoffMillis / 2));
    resumeAtMillis = now() + wait;
    return wait;
  }

  /**
   * One turn that cannot throw: an error from assembling, mapping or the store is not the
   * backend's fault, but retrying it at every tick and every ingest would spin and flood the log,
   * so it backs off like a failed export.
   */
  async function turn(force: boolean): Promise<'progress' | 'idle' | 'failed' | 'broken'> {
    try {
      return await exportOnce(force);
    } catch (error) {
      metrics.exportFailures.inc({ kind: 'internal' });
      const wait = backOff();
      logger.error({ err: error, retryInMillis: Math.round(wait) }, 'export turn failed; will retry');
      return 'broken';
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

  /**
   * Exports batch after batch. The background loop (no `drain`) returns when nothing is ready or
   * the backend fails; the tick brings it back. A drain keeps going after `stopped`: it sleeps
   * through backoffs and, when nothing is ready yet, through the settle window, until the deadline.
   * Deadlines are also checked against the wall clock, so an injected clock that stands still
   * cannot keep a drain (and so a shutdown) going forever.
   */
  async function loop(drain?: { force: boolean; deadlineMillis: number; settleByMillis: number }): Promise<void> {
    const wallDeadline = drain ? Date.now() + Math.max(0, drain.deadlineMillis - now()) : Infinity;
    const wallSettleBy = drain ? Date.now() + Math.max(0, drain.settleByMillis - now()) : Infinity;
    const expired = () => drain !== undefined && (now() >= drain.deadlineMillis || Date.now() >= wallDeadline);
    while (drain || !stopped) {
      if (expired()) return;
      if (now() < resumeAtMillis) {
        if (!drain) return;
        await sleep(Math.min(resumeAtMillis - now(), wallDeadline - Date.now()));
        continue;
      }
      const result = await turn(drain?.force ?? false);
      if (result === 'progress') continue;
      // Waiting cannot mend a bug: a drain stops there and leaves the rest in the store.
      if (!drain || result === 'broken') return;
      if (result === 'idle') {
        // Nothing ready: with force that means nothing left; else complete traces may still be
        // turning idle (no new events arrive while draining), so look again until the window ends.
        if (drain.force || assembler.pendingEntities() === 0) return;
        if (now() >= drain.settleByMillis || Date.now() >= wallSettleBy) return;
        await sleep(Math.min(tickMillis, wallDeadline - Date.now()));
      }
      // 'failed': the next turn waits out the backoff, within the deadline.
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
      const work = (async () => {
        await running;
        const settleByMillis = now() + (options.drainSettleMillis ?? 0) + tickMillis;
        await loop({ force, deadlineMillis, settleByMillis });
      })().catch((error: unknown) => logger.error({ err: error }, 'final export failed'));
      // One attempt may hang up to the OTLP timeout: the shutdown waits only until its deadline.
      if (!(await settlesWithin(work, deadlineMillis - now()))) {
        abandoned = true;
        logger.warn('an export was still in flight at the shutdown deadline; its spans stay in the store');
        return false;
      }
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

/** Whether `promise` settles within `millis`; the timer does not keep the process alive. */
function settlesWithin(promise: Promise<unknown>, millis: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, millis));
    timer.unref();
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(done, done);
  });
}
