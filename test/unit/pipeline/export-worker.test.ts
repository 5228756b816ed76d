// The export worker (src/pipeline/export-worker.ts) with the real ingest pipeline, assembler and
// spools and an in-memory sink: success settles (tombstones, spool released), retryable outcomes
// back off (exponential with jitter, never below Retry-After), permanent ones become dead letters,
// a drain on shutdown exports what it can within its deadline, and a throwing turn cannot spin.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Assembler } from '../../../src/assembly/assembler.js';
import type { ExportOutcome } from '../../../src/export/export-outcome.js';
import { createSilentLogger } from '../../../src/logger.js';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { loadMapping } from '../../../src/mapping/load-mapping.js';
import type { SpanDraft } from '../../../src/mapping/span-draft.js';
import { createMetrics } from '../../../src/metrics.js';
import { decodeDrafts } from '../../../src/pipeline/draft-codec.js';
import { startExportWorker, type ExportWorker } from '../../../src/pipeline/export-worker.js';
import { createIngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import { createMemorySpool } from '../../../src/spool/memory-spool.js';
import type { Spool } from '../../../src/spool/spool.js';
import { openSqliteSpool } from '../../../src/spool/sqlite-spool.js';
import { createInMemorySink, type InMemorySink } from '../../helpers/in-memory-sink.js';

const MAPPING = compileMapping(loadMapping('genai'), { captureContent: true });
const T0 = Date.parse('2026-11-26T12:00:00Z');
const TRACE_IDLE = 100;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  spool: Spool;
  sink: InMemorySink;
  worker: ExportWorker;
  assembler: Assembler;
  metrics: ReturnType<typeof createMetrics>;
  clock: { now: number };
  ingest(batch: unknown[]): void;
  /** Wakes the worker and lets it run (the clock stands still unless advanced). */
  settle(): Promise<void>;
}

function harness(options: { spool?: Spool; sink?: InMemorySink; realClock?: boolean; initialBackoffMillis?: number; maxBackoffMillis?: number } = {}): Harness {
  const clock = { now: T0 };
  const now = options.realClock ? Date.now : () => clock.now;
  const spool = options.spool ?? createMemorySpool();
  const sink = options.sink ?? createInMemorySink();
  const metrics = createMetrics();
  const logger = createSilentLogger();
  const assembler = new Assembler({
    mapping: MAPPING,
    traceIdleMillis: TRACE_IDLE,
    observationTimeoutMillis: 60_000,
    exportedEnvelopeIds: (key) => spool.getTombstone(key),
  });
  const worker = startExportWorker({
    assembler,
    sink,
    spool,
    metrics,
    logger,
    batchSize: 512,
    tickMillis: 5,
    initialBackoffMillis: options.initialBackoffMillis ?? 100,
    maxBackoffMillis: options.maxBackoffMillis ?? 1_000,
    tombstoneRetentionMillis: 86_400_000,
    drainSettleMillis: TRACE_IDLE,
    now,
  });
  cleanups.push(() => worker.stop());
  const pipeline = createIngestPipeline({ spool, assembler, worker, metrics, logger, spoolMaxBytes: 1e9, now });
  return {
    spool,
    sink,
    worker,
    assembler,
    metrics,
    clock,
    ingest(batch) {
      const answer = pipeline.ingest({ batch, metadata: { sdk_integration: 'litellm' }, headers: {} });
      // SDK-sized batches are answered synchronously (only large ones are validated in slices).
      if (answer instanceof Promise) throw new Error('expected a synchronous answer for a small batch');
      expect(answer.status).toBe(207);
      if (answer.status === 207) expect(answer.body.errors).toEqual([]);
    },
    async settle() {
      for (let i = 0; i < 10; i++) {
        worker.wake();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
  };
}

function call(n: number, withTrace = true): unknown[] {
  const generation = {
    id: `ev-${n}-g`,
    type: 'generation-create',
    timestamp: '2026-11-26T11:59:59.000Z',
    body: {
      id: `gen-${n}`,
      traceId: `trace-${n}`,
      name: 'litellm-acompletion',
      model: 'gpt-4o-mini',
      startTime: '2026-11-26T11:59:58.000Z',
      endTime: '2026-11-26T11:59:59.000Z',
      input: { messages: [{ role: 'user', content: 'hi' }] },
    },
  };
  const trace = { id: `ev-${n}-t`, type: 'trace-create', timestamp: '2026-11-26T11:59:59.500Z', body: { id: `trace-${n}`, name: `call ${n}` } };
  return withTrace ? [trace, generation] : [generation];
}

const names = (drafts: readonly SpanDraft[]) => drafts.map((d) => `${d.span.type}:${d.span.type === 'root' ? d.span.traceId : d.span.id}`).sort();

describe('export worker: outcomes', () => {
  it('success: exports, writes tombstones, releases the spool entries and counts the spans', async () => {
    const h = harness();
    h.ingest([...call(1), ...call(2)]);
    await h.settle();
    // Observations are ready at once; roots wait for their trace to turn idle.
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:gen-2']);
    expect(h.spool.pendingEntries()).toBe(1);
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:gen-2', 'root:trace-1', 'root:trace-2']);
    expect(h.spool.pendingEntries()).toBe(0);
    expect(h.spool.pendingBytes()).toBe(0);
    expect(h.assembler.pendingEntities()).toBe(0);
    expect(h.spool.getTombstone('obs:gen-1')).toEqual(new Set(['ev-1-g']));
    expect(h.spool.getTombstone('trace:trace-2')).toEqual(new Set(['ev-2-t']));
    expect(await h.metrics.registry.getSingleMetricAsString('bridge_spans_exported_total')).toMatch(/ 4$/m);
    // A resend of what was exported is a duplicate: nothing is exported twice.
    h.ingest(call(1));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(h.sink.drafts).toHaveLength(4);
    expect(h.spool.pendingEntries()).toBe(0);
  });

  it('a partial success (spans the backend rejected) settles too: they are counted, never retried', async () => {
    const h = harness();
    h.sink.respondWith({ kind: 'success', rejectedSpans: 1, message: 'one span was too big' });
    h.ingest(call(1));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(h.spool.pendingEntries()).toBe(0);
    // One per attempt: the observation went at once, the root once its trace was idle.
    expect(await h.metrics.registry.getSingleMetricAsString('bridge_spans_rejected_by_backend_total')).toMatch(/ 2$/m);
  });

  it('retryable with Retry-After: no attempt before it has passed, then the same spans go again and settle', async () => {
    const h = harness({ initialBackoffMillis: 10 });
    h.sink.respondWith({ kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 5_000 });
    h.ingest(call(1));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(h.sink.attempts).toBe(1);
    expect(h.worker.isBackingOff()).toBe(true);
    h.clock.now += 4_999;
    await h.settle();
    expect(h.sink.attempts).toBe(1);
    expect(h.spool.pendingEntries()).toBe(1);

    h.sink.respondWith({ kind: 'success', rejectedSpans: 0 });
    h.clock.now += 1;
    await h.settle();
    expect(h.worker.isBackingOff()).toBe(false);
    expect(h.sink.attempts).toBe(2);
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'root:trace-1']);
    expect(h.spool.pendingEntries()).toBe(0);
  });

  it('retryable without Retry-After: exponential backoff with jitter, capped, reset by a success', async () => {
    const h = harness({ initialBackoffMillis: 100, maxBackoffMillis: 1_000 });
    h.sink.respondWith({ kind: 'retryable', reason: 'network error: ECONNREFUSED' });
    h.ingest(call(1, false));
    await h.settle();
    for (const step of [100, 200, 400, 800, 1_000, 1_000]) {
      const attempts = h.sink.attempts;
      // The wait is in [step/2, step]: still backing off just before half the step, free at the full step.
      h.clock.now += step / 2 - 1;
      await h.settle();
      expect(h.sink.attempts, `step ${step}`).toBe(attempts);
      h.clock.now += step / 2 + 1;
      await h.settle();
      expect(h.sink.attempts, `step ${step}`).toBe(attempts + 1);
    }
    h.sink.respondWith({ kind: 'success', rejectedSpans: 0 });
    h.clock.now += 1_000;
    await h.settle();
    expect(h.spool.pendingEntries()).toBe(0);
    // After a success the next failure starts again from the first step.
    h.sink.respondWith({ kind: 'retryable', reason: 'HTTP 502' });
    h.ingest(call(2, false));
    await h.settle();
    const attempts = h.sink.attempts;
    h.clock.now += 100;
    await h.settle();
    expect(h.sink.attempts).toBe(attempts + 1);
  });

  it('permanent: the spans become a dead letter with the reason, and the spool is released', async () => {
    const h = harness();
    h.sink.respondWith({ kind: 'permanent', reason: 'HTTP 401: invalid span', httpStatus: 401 });
    h.ingest([...call(1), ...call(2)]);
    await h.settle();
    h.clock.now += TRACE_IDLE;
    await h.settle();
    // Two attempts (observations at once, roots once idle), each refused once and never retried.
    expect(h.sink.attempts).toBe(2);
    const letters = h.spool.listDeadLetters();
    expect(letters.map((d) => [d.reason, d.spanCount])).toEqual([
      ['HTTP 401: invalid span', 2],
      ['HTTP 401: invalid span', 2],
    ]);
    expect(names(letters.flatMap((d) => decodeDrafts(d.payload)))).toEqual(['observation:gen-1', 'observation:gen-2', 'root:trace-1', 'root:trace-2']);
    expect(decodeDrafts(letters[0]!.payload).find((d) => d.span.type === 'observation')?.startTimeUnixNano).toBe(BigInt(Date.parse('2026-11-26T11:59:58Z')) * 1_000_000n);
    expect(h.spool.pendingEntries()).toBe(0);
    // Dead-lettered counts as done: a resend is a duplicate, not a second dead letter.
    expect(h.spool.getTombstone('obs:gen-1')).toBeDefined();
    h.ingest(call(1));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(h.sink.attempts).toBe(2);
    expect(await h.metrics.registry.getSingleMetricAsString('bridge_dead_lettered_spans_total')).toMatch(/ 4$/m);
  });

  it('permanent 400: halves the batch until only the bad span is dead-lettered', async () => {
    const h = harness();
    h.sink.respondWith((drafts) =>
      drafts.some((d) => d.span.type === 'observation' && d.span.id === 'gen-3')
        ? { kind: 'permanent', reason: 'HTTP 400: bad attribute', httpStatus: 400 }
        : { kind: 'success', rejectedSpans: 0 },
    );
    h.ingest([...call(1), ...call(2), ...call(3), ...call(4), ...call(5)]);
    await h.settle();

    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:gen-2', 'observation:gen-4', 'observation:gen-5']);
    const letters = h.spool.listDeadLetters();
    expect(letters.map((d) => [d.reason, d.spanCount])).toEqual([['HTTP 400: bad attribute', 1]]);
    expect(names(decodeDrafts(letters[0]!.payload))).toEqual(['observation:gen-3']);
  });

  it('a trace without trace-create whose root export failed is retried like any other (no wedge)', async () => {
    const h = harness({ initialBackoffMillis: 10, maxBackoffMillis: 10 });
    h.sink.respondWith({ kind: 'retryable', reason: 'HTTP 503' });
    h.ingest(call(1, false));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    // A second observation of the same trace arrives while the first attempt's spans wait.
    h.ingest([{ ...(call(1, false)[0] as object), id: 'ev-1-g2', body: { id: 'gen-1b', traceId: 'trace-1', startTime: '2026-11-26T11:59:57Z', endTime: '2026-11-26T11:59:58Z' } }]);
    h.sink.respondWith({ kind: 'success', rejectedSpans: 0 });
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:gen-1b', 'root:trace-1']);
    expect(h.spool.pendingEntries()).toBe(0);
  });

  it('an update read before its create in one batch leaves no phantom trace behind (no wedge)', async () => {
    const h = harness();
    h.ingest([
      { id: 'u1', type: 'span-update', timestamp: '2026-11-26T10:00:00.000Z', body: { id: 's1', endTime: '2026-11-26T10:00:02Z' } },
      { id: 'c2', type: 'span-create', timestamp: '2026-11-26T10:00:01.000Z', body: { id: 's1', traceId: 't1' } },
      { id: 'c1', type: 'trace-create', timestamp: '2026-11-26T09:59:59.000Z', body: { id: 't1' } },
    ]);
    h.clock.now += TRACE_IDLE;
    await h.settle();
    h.ingest(call(1));
    h.clock.now += TRACE_IDLE;
    await h.settle();
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:s1', 'root:t1', 'root:trace-1']);
    expect(h.spool.pendingEntries()).toBe(0);
    expect(await h.metrics.registry.getSingleMetricAsString('bridge_export_failures_total')).not.toMatch(/kind="internal"/);
  });

  it('a trace known only through a score gets a root that covers the score', async () => {
    const h = harness();
    h.ingest([{ id: 'ev-s', type: 'score-create', timestamp: '2026-11-26T11:00:00Z', body: { id: 'score-1', traceId: 'trace-late', name: 'feedback', value: 1 } }]);
    h.clock.now += TRACE_IDLE;
    await h.settle();
    const root = h.sink.drafts.find((d) => d.span.type === 'root');
    const score = h.sink.drafts.find((d) => d.span.type === 'score');
    expect(root?.startTimeUnixNano).toBe(score?.startTimeUnixNano);
    expect(h.spool.pendingEntries()).toBe(0);
  });
});

describe('export worker: drain on shutdown', () => {
  function tmpSqlite(): Spool {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-worker-'));
    const spool = openSqliteSpool(dir);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => spool.close());
    return spool;
  }

  it('with a durable store: waits out the backoff and exports what is ready before the deadline', async () => {
    const h = harness({ spool: tmpSqlite(), realClock: true, initialBackoffMillis: 200, maxBackoffMillis: 200 });
    h.sink.respondWith({ kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 300 });
    h.ingest([...call(1), ...call(2)]);
    await vi.waitFor(() => expect(h.sink.attempts).toBeGreaterThan(0));
    h.sink.respondWith({ kind: 'success', rejectedSpans: 0 });
    const complete = await h.worker.drain(Date.now() + 3_000, false);
    expect(complete).toBe(true);
    // The roots turned idle during the drain and went too.
    expect(names(h.sink.drafts)).toEqual(['observation:gen-1', 'observation:gen-2', 'root:trace-1', 'root:trace-2']);
    expect(h.spool.pendingEntries()).toBe(0);
  });

  it('with a durable store and the backend still down: stops at the deadline, everything stays in the store', async () => {
    const h = harness({ spool: tmpSqlite(), realClock: true, initialBackoffMillis: 50, maxBackoffMillis: 50 });
    h.sink.respondWith({ kind: 'retryable', reason: 'HTTP 503' });
    h.ingest(call(1));
    const started = Date.now();
    const complete = await h.worker.drain(started + 400, false);
    const took = Date.now() - started;
    expect(complete).toBe(false);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(1_000);
    expect(h.sink.attempts).toBeGreaterThan(1);
    expect(h.spool.pendingEntries()).toBe(1);
  });

  it('an export that hangs past the deadline is abandoned: the drain returns, its late answer settles nothing', async () => {
    let answer: (outcome: ExportOutcome) => void = () => undefined;
    const sink = createInMemorySink();
    sink.export = () => {
      sink.attempts++;
      return new Promise<ExportOutcome>((resolve) => {
        answer = resolve;
      });
    };
    const h = harness({ spool: tmpSqlite(), sink, realClock: true });
    h.ingest(call(1));
    await vi.waitFor(() => expect(sink.attempts).toBe(1));
    const started = Date.now();
    expect(await h.worker.drain(started + 200, false)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
    answer({ kind: 'success', rejectedSpans: 0 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Still in the store for the next start, no tombstone: at-least-once, nothing lost.
    expect(h.spool.pendingEntries()).toBe(1);
    expect(h.spool.getTombstone('obs:gen-1')).toBeUndefined();
  });

  it('with a store that does not survive the process: forces out open observations and non-idle traces', async () => {
    const h = harness({ realClock: true });
    h.ingest([{ id: 'ev-open', type: 'span-create', timestamp: '2026-11-26T12:00:00Z', body: { id: 'open-span', traceId: 'trace-open', startTime: '2026-11-26T12:00:00Z' } }]);
    expect(await h.worker.drain(Date.now() + 2_000, true)).toBe(true);
    expect(names(h.sink.drafts)).toEqual(['observation:open-span', 'root:trace-open']);
  });
});

describe('export worker: a turn that throws', () => {
  it('backs off instead of spinning at every tick and wake, then recovers', async () => {
    const h = harness({ initialBackoffMillis: 100, maxBackoffMillis: 100 });
    h.ingest(call(1, false));
    let calls = 0;
    const real = h.assembler.collectReady.bind(h.assembler);
    h.assembler.collectReady = () => {
      calls++;
      throw new Error('a bug in a later stage');
    };
    await h.settle();
    expect(calls).toBe(1);
    expect(h.worker.isBackingOff()).toBe(true);
    expect(await h.metrics.registry.getSingleMetricAsString('bridge_export_failures_total')).toMatch(/kind="internal"} 1$/m);
    h.assembler.collectReady = real;
    h.clock.now += 100;
    await h.settle();
    expect(names(h.sink.drafts)).toContain('observation:gen-1');
  });
});
