// The export worker (src/pipeline/export-worker.ts) on a real memory spool, with a manual clock:
// order, deletion on success, backoff (at least Retry-After), isolation of a bad span, dead letters,
// one destination never holding another back, and drain deadlines. No real timer is slept on.
import { afterEach, describe, expect, it } from 'vitest';
import type { ExportOutcome } from '../../../src/export/export-outcome.js';
import type { SpanSink } from '../../../src/export/span-sink.js';
import { createSilentLogger } from '../../helpers/silent-logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createExportWorker, type ExportWorker } from '../../../src/pipeline/export-worker.js';
import type { ExportQueue } from '../../../src/spool/export-queue.js';
import { createMemoryExportStore } from '../../../src/spool/memory-export-queue.js';
import { createManualClock, type ManualClock } from '../../helpers/manual-clock.js';

/** A sink whose payloads are span names; it answers with what the test says. */
interface ScriptedSink extends SpanSink {
  sent: string[][];
  delivered: string[];
  answer: (names: string[]) => ExportOutcome | Promise<ExportOutcome>;
}

function scriptedSink(): ScriptedSink {
  const sink: ScriptedSink = {
    sent: [],
    delivered: [],
    answer: () => ({ kind: 'success', rejectedSpans: 0 }),
    encode: (draft) => Buffer.from(draft.name),
    async send(payloads) {
      const names = payloads.map((p) => Buffer.from(p).toString());
      sink.sent.push(names);
      const outcome = await sink.answer(names);
      if (outcome.kind === 'success') sink.delivered.push(...names);
      return outcome;
    },
    async shutdown() {},
  };
  return sink;
}

const workers: ExportWorker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.shutdown(0);
});

function setup(
  options: { destination?: string; store?: ExportQueue; clock?: ManualClock; batchSize?: number; metricsDestination?: string; items?: 'spans' | 'scores' } = {},
) {
  const store = options.store ?? createMemoryExportStore().queue;
  const clock = options.clock ?? createManualClock(1_000_000);
  const sink = scriptedSink();
  const metrics = createMetrics();
  const destination = options.destination ?? 'jaeger';
  const worker = createExportWorker({
    destination,
    sink,
    queue: store,
    metrics,
    logger: createSilentLogger(),
    clock,
    batchSize: options.batchSize ?? 3,
    ...(options.metricsDestination !== undefined ? { metricsDestination: options.metricsDestination } : {}),
    ...(options.items !== undefined ? { items: options.items } : {}),
    initialBackoffMillis: 1_000,
    maxBackoffMillis: 8_000,
    random: () => 0.5,
  });
  workers.push(worker);
  const queue = (...names: string[]) => {
    store.commit({ items: names.map((n) => ({ queue: destination, payload: Buffer.from(n) })), tombstones: [] }, clock.now());
  };
  return { store, clock, sink, worker, metrics, queue, destination };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('export worker', () => {
  it('sends the queue in order, in batches, and deletes what the backend accepted', async () => {
    const h = setup();
    h.queue('a', 'b', 'c', 'd', 'e');
    h.worker.start();
    await settle();
    expect(h.sink.sent).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    expect(h.store.queuedItems()).toBe(0);
    h.queue('f');
    h.worker.wake();
    await settle();
    expect(h.sink.delivered).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('backs off exponentially on retryable outcomes, never below Retry-After, and keeps the spans queued', async () => {
    const h = setup();
    let down = true;
    h.sink.answer = () => (down ? { kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 3_000 } : { kind: 'success', rejectedSpans: 0 });
    h.queue('a');
    h.worker.start();
    await settle();
    expect(h.sink.sent).toHaveLength(1);
    expect(h.worker.isBackingOff()).toBe(true);
    h.worker.wake(); // a wake during a backoff does not send
    await h.clock.advance(2_999);
    expect(h.sink.sent).toHaveLength(1);
    await h.clock.advance(1);
    expect(h.sink.sent).toHaveLength(2);
    expect(h.store.queuedItems()).toBe(1);
    down = false;
    await h.clock.advance(3_000);
    expect(h.sink.delivered).toEqual(['a']);
    expect(h.store.queuedItems()).toBe(0);
    expect(h.worker.isBackingOff()).toBe(false);
  });

  it('never sends again spans the backend took but the store could not dequeue (disk full): the dequeue is retried first', async () => {
    const real = createMemoryExportStore().queue;
    let dequeueFailures = 2;
    const store: ExportQueue = {
      ...real,
      dequeue(ids, deadLetter) {
        if (dequeueFailures > 0) {
          dequeueFailures--;
          throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        }
        real.dequeue(ids, deadLetter);
      },
    };
    const h = setup({ store });
    h.queue('a', 'b');
    h.worker.start();
    await settle();
    expect(h.sink.sent).toEqual([['a', 'b']]);
    expect(h.worker.isBackingOff()).toBe(true);
    // The next turn retries the dequeue (fails again), and sends nothing.
    await h.clock.advance(1_000);
    expect(h.sink.sent).toEqual([['a', 'b']]);
    expect(h.store.queuedItems()).toBe(2);
    // Room again: the dequeue goes through, the spans are counted once, and new spans flow.
    h.queue('c');
    await h.clock.advance(2_000);
    expect(h.sink.sent).toEqual([['a', 'b'], ['c']]);
    expect(h.store.queuedItems()).toBe(0);
    expect((await h.metrics.registry.getSingleMetric('bridge_spans_exported_total')!.get()).values.map((v) => v.value)).toEqual([3]);
  });

  it('isolates a span the backend refuses with 400 by halving, and dead-letters only that one', async () => {
    const h = setup({ batchSize: 8 });
    h.sink.answer = (names) => (names.includes('bad') ? { kind: 'permanent', reason: 'HTTP 400: bad span', httpStatus: 400 } : { kind: 'success', rejectedSpans: 0 });
    h.queue('a', 'b', 'c', 'bad', 'e', 'f');
    h.worker.start();
    await settle();
    expect(h.sink.delivered.sort()).toEqual(['a', 'b', 'c', 'e', 'f']);
    const letters = h.store.listDeadLetters();
    expect(letters.map((l) => [l.destination, l.spanCount, l.reason])).toEqual([['jaeger', 1, 'HTTP 400: bad span']]);
    expect(Buffer.from(letters[0]!.payloads[0]!).toString()).toBe('bad');
    expect(h.store.queuedItems()).toBe(0);
  });

  it('dead-letters a whole batch on a refusal that concerns every span (401)', async () => {
    const h = setup();
    h.sink.answer = () => ({ kind: 'permanent', reason: 'HTTP 401', httpStatus: 401 });
    h.queue('a', 'b');
    h.worker.start();
    await settle();
    expect(h.sink.sent).toEqual([['a', 'b']]);
    expect(h.store.listDeadLetters().map((l) => l.spanCount)).toEqual([2]);
  });

  it('one destination down never holds back another: each has its own part of the queue and its own backoff', async () => {
    const store = createMemoryExportStore().queue;
    const clock = createManualClock(0);
    const down = setup({ destination: 'tempo', store, clock });
    const up = setup({ destination: 'jaeger', store, clock });
    down.sink.answer = () => ({ kind: 'retryable', reason: 'HTTP 503' });
    for (const name of ['a', 'b']) {
      down.queue(name);
      up.queue(name);
    }
    down.worker.start();
    up.worker.start();
    await settle();
    expect(up.sink.delivered).toEqual(['a', 'b']);
    expect(store.queuedItems('tempo')).toBe(2);
    down.sink.answer = () => ({ kind: 'success', rejectedSpans: 0 });
    await clock.advance(10_000);
    expect(down.sink.delivered).toEqual(['a', 'b']);
    expect(store.queuedItems()).toBe(0);
  });

  it("a Langfuse destination's scores queue counts scores, under the destination's name", async () => {
    const h = setup({ destination: 'lf#scores', metricsDestination: 'lf', items: 'scores' });
    let down = true;
    h.sink.answer = () => (down ? { kind: 'retryable', reason: 'HTTP 503' } : { kind: 'success', rejectedSpans: 0 });
    h.queue('s1', 's2');
    h.worker.start();
    await settle();
    down = false;
    await h.clock.advance(10_000);
    expect(h.sink.delivered).toEqual(['s1', 's2']);
    const text = await h.metrics.registry.metrics();
    expect(text).toMatch(/^bridge_scores_exported_total\{destination="lf"\} 2$/m);
    expect(text).toMatch(/^bridge_export_failures_total\{destination="lf",kind="retryable"\} 1$/m);
    expect(text).not.toMatch(/^bridge_spans_exported_total\{/m);
    expect(text).not.toContain('lf#scores');
  });

  it('a store error backs off like a failed export instead of spinning', async () => {
    const h = setup();
    let broken = true;
    const peek = h.store.peek.bind(h.store);
    h.store.peek = (...args) => {
      if (broken) throw new Error('disk I/O error');
      return peek(...args);
    };
    h.queue('a');
    h.worker.start();
    await settle();
    expect(h.worker.isBackingOff()).toBe(true);
    broken = false;
    await h.clock.advance(1_000);
    expect(h.sink.delivered).toEqual(['a']);
  });

  it('drain sends what is queued before the deadline, waiting out a backoff', async () => {
    const h = setup();
    let attempts = 0;
    h.sink.answer = () => (++attempts === 1 ? { kind: 'retryable', reason: 'HTTP 503' } : { kind: 'success', rejectedSpans: 0 });
    h.queue('a');
    h.worker.start();
    await settle();
    const drained = h.worker.shutdown(h.clock.now() + 5_000);
    await h.clock.advance(1_000);
    expect(await drained).toBe(true);
    expect(h.sink.delivered).toEqual(['a']);
  });

  it('drain gives up at the deadline when a send hangs, and the spans stay queued', async () => {
    const h = setup();
    h.sink.answer = () => new Promise<ExportOutcome>(() => {});
    h.queue('a');
    h.worker.start();
    await settle();
    const drained = h.worker.shutdown(h.clock.now() + 2_000);
    await h.clock.advance(2_000);
    expect(await drained).toBe(false);
    expect(h.store.queuedItems()).toBe(1);
    workers.splice(workers.indexOf(h.worker), 1); // its send never answers: nothing to stop after
  });
});
