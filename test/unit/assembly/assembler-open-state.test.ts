// Issue 16 (2): open state without payloads. An open observation or trace keeps ids, times, names
// and counters; its input, output and metadata are read back from the log (the port's
// `readEvents`) when it completes. Here the log is JSON text, as on disk, so whatever the
// assembler holds on to is all that stays reachable: the heap after a GC must not grow with the
// payload size, and the completed records must still carry every payload, merged as Langfuse does.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { Assembler } from '../../../src/assembly/assembler.js';
import type { CompletedRecord } from '../../../src/assembly/completed-record.js';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { readStoredEvent, storeEvents, type LogEntry, type StoredEvents } from '../../../src/spool/request-log.js';

/** Events as the receiver hands them on: validated. */
function valid(batch: unknown[]): IngestionEvent[] {
  const { accepted, rejected } = validateBatch(batch);
  expect(rejected).toEqual([]);
  return accepted;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * A log that keeps only JSON bytes and the events' offsets, parsing the events asked for on every
 * read (as the SQLite log does). Buffers live outside the V8 heap, so the heap holds only what the
 * assembler keeps.
 */
function textLog() {
  const rows = new Map<number, StoredEvents>();
  let next = 1;
  return {
    /** Read calls. */
    reads: 0,
    /** How often each event (`seq:index`) was read back. */
    readsByEvent: new Map<string, number>(),
    append(events: IngestionEvent[]): LogEntry {
      const stored = storeEvents(events);
      const seq = next++;
      rows.set(seq, stored);
      return { seq, receivedAtMillis: 0, source: {}, events: JSON.parse(stored.text.toString('utf8')) as IngestionEvent[], bytes: stored.text.length };
    },
    readEvents(seq: number, indices: readonly number[]): IngestionEvent[] {
      this.reads++;
      const row = rows.get(seq);
      if (!row) return [];
      return indices.map((index) => {
        this.readsByEvent.set(`${seq}:${index}`, (this.readsByEvent.get(`${seq}:${index}`) ?? 0) + 1);
        return readStoredEvent(row.text, row.ends, index);
      });
    },
  };
}

function setup() {
  const log = textLog();
  const assembler = new Assembler({ traceIdleMillis: 1000, observationTimeoutMillis: 600_000, exportedEnvelopeIds: () => undefined, readEvents: (seq, indices) => log.readEvents(seq, indices) });
  const feed = (events: IngestionEvent[]) => assembler.ingest(log.append(events), 0);
  return { assembler, log, feed };
}

const at = (second: number) => `2026-12-07T10:00:${String(second).padStart(2, '0')}.000Z`;

function openGeneration(i: number, payloadBytes: number): IngestionEvent[] {
  const text = `${i}:`.padEnd(payloadBytes, 'x');
  return valid([
    { id: `t-${i}`, type: 'trace-create', timestamp: at(0), body: { id: `trace-${i}`, name: 'chat', input: text, metadata: { big: text } } },
    { id: `g-${i}`, type: 'generation-create', timestamp: at(1), body: { id: `gen-${i}`, traceId: `trace-${i}`, startTime: at(1), input: [{ role: 'user', content: text }], metadata: { note: text } } },
  ]);
}

/** Heap in use after a full GC with `count` open traces and generations of `payloadBytes` each. */
function heapWithOpenEntities(count: number, payloadBytes: number): { heapBytes: number; keep: Assembler } {
  const { assembler, feed } = setup();
  for (let i = 0; i < count; i++) feed(openGeneration(i, payloadBytes));
  expect(assembler.openObservations()).toBe(count);
  gc();
  gc();
  return { heapBytes: process.memoryUsage().heapUsed, keep: assembler };
}

it('memory per open entity does not depend on the payload size', () => {
  const count = 200;
  gc();
  const before = process.memoryUsage().heapUsed;
  const small = heapWithOpenEntities(count, 100);
  const smallBytes = small.heapBytes - before;
  small.keep.pendingEntities();
  gc();
  const before2 = process.memoryUsage().heapUsed;
  // 200 × (trace input + trace metadata + generation input + generation metadata) × 50 KB: 40 MB of payloads.
  const large = heapWithOpenEntities(count, 50_000);
  const largeBytes = large.heapBytes - before2;
  large.keep.pendingEntities();
  // Holding the payloads would cost at least 40 MB more; ids, times and counters cost the same.
  expect(largeBytes - smallBytes).toBeLessThan(4 * 1024 * 1024);
});

it('completed records carry the payloads read back from the log, merged in Langfuse order', () => {
  const { assembler, log, feed } = setup();
  feed(valid([
    { id: 'e1', type: 'trace-create', timestamp: at(0), body: { id: 'tr', name: 'chat', input: 'question', metadata: { a: 1, nested: { x: 1 } } } },
    { id: 'e2', type: 'generation-create', timestamp: at(1), body: { id: 'g', traceId: 'tr', startTime: at(1), input: 'prompt', metadata: { m: 'first' } } },
  ]));
  const readsBefore = log.reads;
  // A later request: output, more metadata (deep-merged), an empty input that keeps the first.
  feed(valid([
    { id: 'e3', type: 'generation-update', timestamp: at(2), body: { id: 'g', traceId: 'tr', endTime: at(2), output: 'answer', input: '', metadata: { n: 'second' } } },
    { id: 'e4', type: 'trace-create', timestamp: at(3), body: { id: 'tr', output: 'reply', metadata: { nested: { y: 2 } } } },
  ]));
  // In order: nothing was read back while the entities were open.
  expect(log.reads).toBe(readsBefore);
  const ready = assembler.collect(0, 10, 'ready');
  const generation = ready.records.find((r): r is Extract<CompletedRecord, { kind: 'observation' }> => r.kind === 'observation')!;
  expect(generation.observation).toMatchObject({ input: 'prompt', output: 'answer', metadata: { m: 'first', n: 'second' } });
  expect(generation.trace).toMatchObject({ name: 'chat', input: 'question', output: 'reply', metadata: { a: 1, nested: { x: 1, y: 2 } } });
  assembler.confirm(ready);
  const roots = assembler.collect(10_000, 10, 'due');
  const root = roots.records.find((r) => r.kind === 'root') as Extract<CompletedRecord, { kind: 'root' }>;
  expect(root.trace).toMatchObject({ input: 'question', output: 'reply', metadata: { a: 1, nested: { x: 1, y: 2 } } });
});

it('a root that completes soon after its request takes its payloads from the entry kept parsed, without reading the log', () => {
  const { assembler, log, feed } = setup();
  feed(valid([
    { id: 'e1', type: 'trace-create', timestamp: at(0), body: { id: 'tr', name: 'chat', input: 'question', output: 'reply' } },
    { id: 'e2', type: 'generation-create', timestamp: at(1), body: { id: 'g', traceId: 'tr', startTime: at(1), endTime: at(2), input: 'prompt', output: 'answer' } },
  ]));
  const ready = assembler.collect(0, 10, 'ready');
  expect(ready.records).toHaveLength(1);
  assembler.confirm(ready);
  const roots = assembler.collect(10_000, 10, 'due');
  const root = roots.records.find((r) => r.kind === 'root') as Extract<CompletedRecord, { kind: 'root' }>;
  expect(root.trace).toMatchObject({ input: 'question', output: 'reply' });
  expect(log.reads).toBe(0);
});

it('entries past the cache bound are read back from the log, and none asked for is lost to eviction', () => {
  const { assembler, log, feed } = setup();
  // 24 entries of ~200 KB: far past the bound, so the first ones are read back.
  const count = 24;
  for (let i = 0; i < count; i++) feed(openGeneration(i, 50_000));
  // Each generation ends in a later request (a small entry); both entries are needed to finish it.
  for (let i = 0; i < count; i++) {
    feed(valid([{ id: `u-${i}`, type: 'generation-update', timestamp: at(2), body: { id: `gen-${i}`, traceId: `trace-${i}`, endTime: at(2), output: `out-${i}` } }]));
  }
  const done = assembler.collect(0, 100, 'ready');
  const generations = done.records.filter((r): r is Extract<CompletedRecord, { kind: 'observation' }> => r.kind === 'observation');
  expect(generations).toHaveLength(count);
  for (const g of generations) {
    const i = Number(g.observation.id.slice('gen-'.length));
    expect(g.observation.output).toBe(`out-${i}`);
    expect((g.observation.input as Array<{ content: string }>)[0]!.content.startsWith(`${i}:`)).toBe(true);
    expect((g.observation.metadata as { note: string }).note.length).toBe(50_000);
  }
  expect(log.reads).toBeGreaterThan(0);
});

it('an entry larger than the whole cache is still read back whole, with the cached entries asked for along with it', () => {
  const { assembler, log, feed } = setup();
  // ~3 MB: never stays in the cache; the small update after it does, until this one is read.
  feed(openGeneration(0, 750_000));
  feed(valid([{ id: 'u-0', type: 'generation-update', timestamp: at(2), body: { id: 'gen-0', traceId: 'trace-0', endTime: at(2), output: 'out-0' } }]));
  const done = assembler.collect(0, 10, 'ready');
  const generation = done.records.find((r): r is Extract<CompletedRecord, { kind: 'observation' }> => r.kind === 'observation')!;
  expect(generation.observation.output).toBe('out-0');
  expect((generation.observation.metadata as { note: string }).note.length).toBe(750_000);
  expect(log.reads).toBeGreaterThan(0);
});

it('the roots of many traces of one entry read back their own events only, each once', () => {
  const { assembler, log, feed } = setup();
  const entries = 16;
  const perEntry = 100;
  // LiteLLM-shaped: each call a trace-create and an ended generation, ~2 KB each, 100 calls per
  // entry; 16 entries (~6 MB) are past the cache bound, so the first ones are read back.
  for (let e = 0; e < entries; e++) {
    const events: unknown[] = [];
    for (let c = 0; c < perEntry; c++) {
      const i = e * perEntry + c;
      const text = `${i}:`.padEnd(2000, 'x');
      events.push(
        { id: `t-${i}`, type: 'trace-create', timestamp: at(0), body: { id: `trace-${i}`, name: 'chat', input: text, metadata: { call: i } } },
        { id: `g-${i}`, type: 'generation-create', timestamp: at(1), body: { id: `gen-${i}`, traceId: `trace-${i}`, startTime: at(1), endTime: at(2), input: text } },
      );
    }
    feed(valid(events));
    const ready = assembler.collect(0, 1_000, 'ready');
    expect(ready.records).toHaveLength(perEntry);
    assembler.confirm(ready);
  }
  expect(log.reads).toBe(0);
  let roots = 0;
  for (;;) {
    // Slices smaller than an entry: the entry read for one slice serves the next.
    const due = assembler.collect(10_000, 30, 'due');
    if (due.records.length === 0) break;
    for (const record of due.records) {
      if (record.kind !== 'root') continue;
      roots++;
      const i = Number(record.traceId.slice('trace-'.length));
      expect((record.trace!.input as string).startsWith(`${i}:`)).toBe(true);
      expect(record.trace!.metadata).toEqual({ call: i });
    }
    assembler.confirm(due);
  }
  expect(roots).toBe(entries * perEntry);
  expect(log.readsByEvent.size).toBeGreaterThan(0);
  // Trace-creates are the even events of each entry; the generations, queued at once, are never read.
  for (const [at, reads] of log.readsByEvent) expect({ at, reads, trace: Number(at.split(':')[1]) % 2 === 0 }).toEqual({ at, reads: 1, trace: true });
});

it('a full cache of ingested entries refuses the newest: roots completing in arrival order find theirs, and read back the others one event each', () => {
  const log = textLog();
  const idleMillis = 80;
  const assembler = new Assembler({ traceIdleMillis: idleMillis, observationTimeoutMillis: 600_000, exportedEnvelopeIds: () => undefined, readEvents: (seq, indices) => log.readEvents(seq, indices) });
  const entries = 40;
  const perEntry = 100;
  let roots = 0;
  // An entry every 8 ms, roots due 80 ms later: ~11 entries (~2.3 MB) wait at any time, one or
  // two more than the cache holds. Evicting the oldest for each entry ingested made nearly every
  // entry miss (32 of 40 read back); a full cache refusing the newest instead, a few. What is
  // read back is one event per root.
  for (let e = 0; e <= entries + 20; e++) {
    const now = e * 8;
    if (e < entries) {
      const events: unknown[] = [];
      for (let c = 0; c < perEntry; c++) {
        const i = e * perEntry + c;
        const text = `${i}:`.padEnd(1000, 'x');
        events.push(
          { id: `t-${i}`, type: 'trace-create', timestamp: at(0), body: { id: `trace-${i}`, name: 'chat', input: text } },
          { id: `g-${i}`, type: 'generation-create', timestamp: at(1), body: { id: `gen-${i}`, traceId: `trace-${i}`, startTime: at(1), endTime: at(2), input: text } },
        );
      }
      assembler.ingest(log.append(valid(events)), now);
    }
    for (;;) {
      const due = assembler.collect(now, 64, 'due');
      if (due.keys.length === 0) break;
      for (const record of due.records) {
        if (record.kind !== 'root') continue;
        roots++;
        expect((record.trace!.input as string).startsWith(`${record.traceId.slice('trace-'.length)}:`)).toBe(true);
      }
      assembler.confirm(due);
    }
  }
  expect(roots).toBe(entries * perEntry);
  const entriesRead = new Set([...log.readsByEvent.keys()].map((at) => at.split(':')[0]));
  expect(entriesRead.size).toBeGreaterThan(0);
  expect(entriesRead.size).toBeLessThan(entries / 2);
  for (const [at, reads] of log.readsByEvent) expect({ at, reads, trace: Number(at.split(':')[1]) % 2 === 0 }).toEqual({ at, reads: 1, trace: true });
});
