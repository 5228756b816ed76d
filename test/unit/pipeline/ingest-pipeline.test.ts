// The pipeline (src/pipeline/ingest-pipeline.ts) on real parts: memory store, Assembler, the
// genai mapping and the in-memory sink's encoder, a manual clock. What it promises: a batch is in
// the log before it is acknowledged; completed records are mapped per destination, queued with
// their tombstones, and only then their log entries are released (retried when that fails);
// store failures and refusals are outcomes; a record that cannot be mapped or encoded becomes a
// dead letter holding that record; GenAI metrics hear the first destination's drafts.
import { describe, expect, it } from 'vitest';
import { decodeRecord } from '../../../src/assembly/record-codec.js';
import { createMetrics } from '../../../src/metrics.js';
import { compileDestinationMapping } from '../../../src/mapping/destination-mappings.js';
import type { SpanDraft } from '../../../src/mapping/span-draft.js';
import { createIngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import type { PipelineDestination } from '../../../src/pipeline/map-record.js';
import { createMemoryStore } from '../../../src/spool/memory-store.js';
import type { RequestLog } from '../../../src/spool/request-log.js';
import { createAssembler } from '../../helpers/assembly.js';
import { envelope } from '../../helpers/ingestion-events.js';
import { createInMemorySink } from '../../helpers/in-memory-sink.js';
import { createManualClock } from '../../helpers/manual-clock.js';
import { createSilentLogger } from '../../helpers/silent-logger.js';

const MAPPING = compileDestinationMapping({ name: 'd', mapping: 'genai', captureContent: true });
const diskFull = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

/** A generation with its trace: complete once the trace turns idle. */
function batch(id: string, ts = '2026-11-26T12:00:00.000Z') {
  return [
    envelope('trace-create', { id: `trace-${id}`, name: 'chat' }, { id: `${id}-t`, timestamp: ts }),
    envelope(
      'generation-create',
      { id: `gen-${id}`, traceId: `trace-${id}`, name: 'llm', model: 'gpt-4o', startTime: ts, endTime: '2026-11-26T12:00:01.000Z' },
      { id: `${id}-g`, timestamp: ts },
    ),
  ];
}

function setup(options: { log?: (log: RequestLog) => RequestLog; second?: Partial<PipelineDestination> } = {}) {
  const store = createMemoryStore();
  const log = options.log ? options.log(store.log) : store.log;
  const clock = createManualClock(Date.parse('2026-11-26T12:00:02Z'));
  const sink = createInMemorySink();
  const assembler = createAssembler(1_000, log, store.exported);
  const heard: SpanDraft[][] = [];
  let queued = 0;
  const destinations: PipelineDestination[] = [
    { name: 'first', mapping: MAPPING, encodeSpan: (draft) => sink.encode(draft) },
    { name: 'second', mapping: MAPPING, encodeSpan: (draft) => sink.encode(draft), ...options.second },
  ];
  const metrics = createMetrics();
  const pipeline = createIngestPipeline({
    log,
    queue: store.queue,
    assembler,
    destinations,
    onQueued: () => queued++,
    onDraftsQueued: (drafts) => heard.push([...drafts]),
    metrics,
    logger: createSilentLogger(),
    clock,
    spoolMaxBytes: 1 << 30,
    memoryLimitBytes: Number.MAX_SAFE_INTEGER,
    traceIdleMillis: 1_000,
  });
  const ingest = (b: unknown[]) => pipeline.ingest({ batch: b, metadata: {}, headers: {} });
  /** Ingests a batch, then lets its trace turn idle and flushes what completed. */
  const complete = async (b: unknown[]) => {
    await ingest(b);
    await clock.advance(1_500);
    pipeline.flush('due');
  };
  return { store, clock, pipeline, ingest, complete, heard, queued: () => queued, metrics };
}

describe('ingest pipeline', () => {
  it('closes ingestion until the store is replayed, then logs a batch before acknowledging it', async () => {
    const h = setup();
    expect(await h.ingest(batch('a'))).toEqual({ kind: 'refused', reason: 'replaying' });
    expect(await h.pipeline.start()).toBe(0);
    const outcome = await h.ingest([...batch('a'), { id: 'bad', type: 'no-such-type', timestamp: 'x', body: {} }]);
    expect(outcome.kind).toBe('accepted');
    if (outcome.kind !== 'accepted') return;
    expect(outcome.accepted.map((e) => e.id)).toEqual(['a-t', 'a-g']);
    expect(outcome.rejected.map((r) => r.id)).toEqual(['bad']);
    expect(h.store.log.pendingEntries()).toBe(1);
    expect(h.store.queue.queuedItems()).toBe(0);
  });

  it('maps each completed record for every destination, queues it with its tombstones, then releases the log', async () => {
    const h = setup();
    await h.pipeline.start();
    await h.complete(batch('a'));
    // One generation and one root, for each of the two destinations.
    expect(h.store.queue.queuedItems('first')).toBe(2);
    expect(h.store.queue.queuedItems('second')).toBe(2);
    const ids = h.store.exported.exportedEnvelopeIds('obs:gen-a');
    expect(['a-g', 'a-t'].map((id) => ids?.has(id))).toEqual([true, false]);
    expect(h.store.log.pendingEntries()).toBe(0);
    expect(h.queued()).toBeGreaterThan(0);
    // Metrics hear the first destination's drafts only, once.
    expect(h.heard.flat().map((d) => d.name).sort()).toEqual(['chat', 'text_completion gpt-4o']);
    // A resend of the same batch is a duplicate: nothing more is queued, its entry is released at once.
    await h.ingest(batch('a'));
    h.pipeline.flush('all');
    expect(h.store.queue.queuedItems()).toBe(4);
    expect(h.store.log.pendingEntries()).toBe(0);
  });

  it('answers a store failure as an outcome, and acknowledges nothing of that batch', async () => {
    let full = true;
    const h = setup({
      log: (real) => ({
        ...real,
        append: (entry) => {
          if (full) throw diskFull();
          return real.append(entry);
        },
      }),
    });
    await h.pipeline.start();
    expect(await h.ingest(batch('a'))).toEqual({ kind: 'store_failed' });
    expect(h.store.log.pendingEntries()).toBe(0);
    full = false;
    expect((await h.ingest(batch('a'))).kind).toBe('accepted');
    expect(h.store.log.pendingEntries()).toBe(1);
  });

  it('retries releasing log entries whose work is queued when the release failed', async () => {
    let failures = 1;
    const h = setup({
      log: (real) => ({
        ...real,
        release: (seqs) => {
          if (seqs.length > 0 && failures > 0) {
            failures--;
            throw diskFull();
          }
          real.release(seqs);
        },
      }),
    });
    await h.pipeline.start();
    await h.complete(batch('a'));
    // Queued once (the commit went through), not released yet.
    expect(h.store.queue.queuedItems('first')).toBe(2);
    expect(h.store.log.pendingEntries()).toBe(1);
    await h.complete(batch('b'));
    expect(h.store.queue.queuedItems('first')).toBe(4);
    expect(h.store.log.pendingEntries()).toBe(0);
  });

  it('keeps a record that cannot be encoded as a dead letter holding that record; the other destination still gets it', async () => {
    const h = setup({
      second: {
        encodeSpan: () => {
          throw new Error('cannot encode');
        },
      },
    });
    await h.pipeline.start();
    await h.complete(batch('a'));
    expect(h.store.queue.queuedItems('first')).toBe(2);
    expect(h.store.queue.queuedItems('second')).toBe(0);
    const letters = h.store.queue.listDeadLetters();
    expect(letters.map((l) => [l.destination, l.holds, l.spanCount])).toEqual([
      ['second', 'record', 1],
      ['second', 'record', 1],
    ]);
    const kept = letters.map((l) => decodeRecord(Buffer.from(l.payloads[0]!).toString('utf8')));
    expect(kept.map((r) => r.kind).sort()).toEqual(['observation', 'root']);
    expect(h.store.log.pendingEntries()).toBe(0);
  });

  it('refuses at once on shutdown, and queues everything a log that does not survive holds', async () => {
    const h = setup();
    await h.pipeline.start();
    await h.ingest(batch('a'));
    let requestsDone = () => {};
    const stopping = h.pipeline.shutdown(h.clock.now() + 5_000, new Promise<void>((done) => (requestsDone = done)));
    expect(await h.ingest(batch('b'))).toEqual({ kind: 'refused', reason: 'shutting_down' });
    expect(h.pipeline.admit()).toEqual({ kind: 'refused', reason: 'shutting_down' });
    // Nothing is queued while requests are still in flight.
    expect(h.store.queue.queuedItems()).toBe(0);
    requestsDone();
    expect(await stopping).toBe(true);
    expect(h.store.queue.queuedItems('first')).toBe(2);
  });

  it('takes a decoded OTLP request and a score as plain outcomes', async () => {
    const h = setup();
    await h.pipeline.start();
    const otlp = await h.pipeline.ingestOtlp({ resourceSpans: [] }, {});
    expect(otlp).toEqual({ kind: 'accepted', acceptedSpans: 0, rejectedSpans: 0, errorMessage: '' });
    const score = await h.pipeline.ingestScore({ id: 'score-1', name: 'quality', value: 1, traceId: 'trace-a' }, {});
    expect(score).toEqual({ kind: 'accepted', id: 'score-1' });
    const invalid = await h.pipeline.ingestScore({ name: 'quality' }, {});
    expect(invalid.kind).toBe('invalid');
    expect(h.store.log.pendingEntries()).toBe(1);
  });
});
