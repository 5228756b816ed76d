// The Spool contract (src/spool/spool.ts) on both stores, and what only the SQLite store promises:
// the log, the export queue, tombstones and dead letters survive closing and reopening the data
// directory, and a row that cannot be read is quarantined instead of stopping a replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import { createMemorySpool } from '../../../src/spool/memory-spool.js';
import { isUnreadable, type Spool, type SpoolEntry } from '../../../src/spool/spool.js';
import Database from 'better-sqlite3';
import { openSqliteSpool } from '../../../src/spool/sqlite-spool.js';

let dataDir: string;
const open: Spool[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-spool-'));
});

afterEach(() => {
  for (const spool of open.splice(0)) spool.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function sqlite(): Spool {
  const spool = openSqliteSpool(dataDir);
  open.push(spool);
  return spool;
}

function reopen(spool: Spool): Spool {
  spool.close();
  return sqlite();
}

let counter = 0;
function events(n: number, text = 'x'): IngestionEvent[] {
  return Array.from({ length: n }, () => {
    counter++;
    return {
      id: `ev-${counter}`,
      type: 'span-create',
      timestamp: '2026-11-26T12:00:00.123456Z',
      body: { id: `span-${counter}`, name: `${text} ✓ "quoted" \u2028`, environment: 'default', metadata: { n: counter, nested: [1, { a: null }] } },
    } as unknown as IngestionEvent;
  });
}

function append(spool: Spool, n = 2, text?: string): SpoolEntry {
  return spool.append({ receivedAtMillis: 1_764_158_400_000 + counter, source: { sdkName: 'python', sdkIntegration: 'litellm' }, events: events(n, text) });
}

const payload = (text: string) => Buffer.from(text);
const replayAll = (spool: Spool) => [...spool.replay()];

describe.each([
  ['sqlite', sqlite],
  ['memory', createMemorySpool],
] as const)('%s spool: the Spool contract', (_name, make) => {
  it('numbers entries in increasing order, sizes them as the stored JSON of their events and replays them in order', () => {
    const spool = make();
    const a = append(spool, 1);
    const b = append(spool, 3);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a.bytes).toBe(Buffer.byteLength(JSON.stringify(a.events)));
    expect(spool.pendingBytes()).toBe(a.bytes + b.bytes);
    expect(replayAll(spool)).toEqual([a, b]);
    expect(spool.readEntries([b.seq])).toEqual([b]);
  });

  it('commits queued spans, tombstones and log releases together', () => {
    const spool = make();
    const a = append(spool, 1);
    const b = append(spool, 1);
    spool.commit(
      {
        spans: [
          { destination: 'jaeger', payload: payload('span-1') },
          { destination: 'langfuse', payload: payload('span-1-lf') },
          { destination: 'jaeger', payload: payload('span-2') },
        ],
        tombstones: [{ key: 'obs:span-1', envelopeIds: ['ev-1'] }],
        releaseSeqs: [a.seq],
      },
      1_000,
    );
    expect(spool.pendingEntries()).toBe(1);
    expect(replayAll(spool)).toEqual([b]);
    expect(spool.getTombstone('obs:span-1')).toEqual(new Set(['ev-1']));
    expect(spool.getTombstone('obs:other')).toBeUndefined();
    expect(spool.queuedSpans()).toBe(3);
    expect(spool.queuedSpans('jaeger')).toBe(2);
    expect(spool.pendingBytes()).toBe(b.bytes + 'span-1span-1-lfspan-2'.length);
    const jaeger = spool.peekQueue('jaeger', 0, 10);
    expect(jaeger.map((s) => Buffer.from(s.payload).toString())).toEqual(['span-1', 'span-2']);
    expect(spool.peekQueue('jaeger', jaeger[0]!.id, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['span-2']);
    expect(spool.peekQueue('jaeger', 0, 1)).toHaveLength(1);
  });

  it('dequeues what was sent, and dead-letters refused spans with their payloads', () => {
    const spool = make();
    spool.commit({ spans: ['a', 'b', 'c'].map((t) => ({ destination: 'd', payload: payload(t) })), tombstones: [], releaseSeqs: [] }, 0);
    const [a, b, c] = spool.peekQueue('d', 0, 10);
    spool.dequeue([a!.id]);
    spool.dequeue([b!.id, c!.id], { destination: 'd', reason: 'HTTP 400: bad span', atMillis: 5 });
    expect(spool.queuedSpans()).toBe(0);
    expect(spool.pendingBytes()).toBe(0);
    const letters = spool.listDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ destination: 'd', reason: 'HTTP 400: bad span', spanCount: 2, createdAtMillis: 5 });
    expect(letters[0]!.payloads.map((p) => Buffer.from(p).toString())).toEqual(['b', 'c']);
    expect(spool.deadLetterCount()).toBe(1);
    spool.deleteDeadLetters([letters[0]!.id]);
    expect(spool.listDeadLetters()).toEqual([]);
  });

  it('prunes tombstones older than the cut-off', () => {
    const spool = make();
    spool.commit({ spans: [], tombstones: [{ key: 'trace:old', envelopeIds: [] }], releaseSeqs: [] }, 1_000);
    spool.commit({ spans: [], tombstones: [{ key: 'trace:new', envelopeIds: ['x'] }], releaseSeqs: [] }, 5_000);
    expect(spool.pruneTombstones(2_000)).toBe(1);
    expect(spool.getTombstone('trace:old')).toBeUndefined();
    expect(spool.getTombstone('trace:new')).toEqual(new Set(['x']));
  });

  it('releases entries that hold nothing to export', () => {
    const spool = make();
    const a = append(spool, 2);
    spool.release([a.seq, a.seq + 1000]);
    expect(spool.pendingEntries()).toBe(0);
    expect(spool.pendingBytes()).toBe(0);
  });
});

describe('sqlite spool: what survives a restart', () => {
  it('keeps the log, the queue per destination, tombstones and dead letters across a reopen', async () => {
    let spool = sqlite();
    const a = append(spool, 2, 'kept');
    spool.commit({ spans: [{ destination: 'jaeger', payload: payload('queued') }], tombstones: [{ key: 'obs:x', envelopeIds: ['e'] }], releaseSeqs: [] }, 10);
    spool.commit({ spans: [{ destination: 'jaeger', payload: payload('refused') }], tombstones: [], releaseSeqs: [] }, 10);
    const refused = spool.peekQueue('jaeger', 0, 10)[1]!;
    spool.dequeue([refused.id], { destination: 'jaeger', reason: 'HTTP 401', atMillis: 11 });
    const bytes = spool.pendingBytes();
    spool = reopen(spool);
    // Before warm-up the queue is not summed yet, and tombstones are looked up without the filter.
    expect(spool.queuedSpans()).toBe(0);
    expect(spool.getTombstone('obs:x')).toEqual(new Set(['e']));
    await spool.warmUp?.();
    expect(replayAll(spool)).toEqual([a]);
    expect(spool.pendingBytes()).toBe(bytes);
    expect(spool.queuedSpans('jaeger')).toBe(1);
    expect(Buffer.from(spool.peekQueue('jaeger', 0, 10)[0]!.payload).toString()).toBe('queued');
    expect(spool.getTombstone('obs:x')).toEqual(new Set(['e']));
    expect(spool.listDeadLetters().map((d) => d.reason)).toEqual(['HTTP 401']);
  });

  it('holds a commit as one batch row per destination; a partly exported batch never gives back what was dequeued, across a reopen', async () => {
    let spool = sqlite();
    const names = ['a', 'b', 'c', 'd', 'e'];
    spool.commit({ spans: names.flatMap((t) => [{ destination: 'jaeger', payload: payload(t) }, { destination: 'tempo', payload: payload(t) }]), tombstones: [], releaseSeqs: [] }, 0);
    spool.commit({ spans: [{ destination: 'jaeger', payload: payload('f') }], tombstones: [], releaseSeqs: [] }, 0);
    const rows = () => {
      const db = new Database(path.join(dataDir, 'bridge.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT destination, spans, remaining FROM export_batches ORDER BY id').all();
      } finally {
        db.close();
      }
    };
    expect(rows()).toEqual([
      { destination: 'jaeger', spans: 5, remaining: 5 },
      { destination: 'tempo', spans: 5, remaining: 5 },
      { destination: 'jaeger', spans: 1, remaining: 1 },
    ]);
    const jaeger = spool.peekQueue('jaeger', 0, 10);
    expect(jaeger.map((s) => Buffer.from(s.payload).toString())).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // Out of order and in pieces, as a worker that halved a batch would.
    spool.dequeue([jaeger[1]!.id, jaeger[3]!.id]);
    spool.dequeue([jaeger[1]!.id]);
    expect(spool.queuedSpans('jaeger')).toBe(4);
    spool = reopen(spool);
    await spool.warmUp?.();
    expect(spool.queuedSpans('jaeger')).toBe(4);
    expect(spool.queuedSpans('tempo')).toBe(5);
    expect(spool.peekQueue('jaeger', 0, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['a', 'c', 'e', 'f']);
    expect(spool.peekQueue('jaeger', 0, 2).map((s) => Buffer.from(s.payload).toString())).toEqual(['a', 'c']);
    expect(spool.peekQueue('jaeger', jaeger[2]!.id, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['e', 'f']);
    spool.dequeue([jaeger[0]!.id, jaeger[2]!.id, jaeger[4]!.id], { destination: 'jaeger', reason: 'HTTP 400', atMillis: 1 });
    expect(spool.listDeadLetters()[0]!.payloads.map((p) => Buffer.from(p).toString())).toEqual(['a', 'c', 'e']);
    expect(rows()).toEqual([
      { destination: 'tempo', spans: 5, remaining: 5 },
      { destination: 'jaeger', spans: 1, remaining: 1 },
    ]);
    expect(spool.pendingBytes()).toBe(6);
  });

  it('turns the per-span queue of a store from before batches into batches at open, in order', async () => {
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('CREATE TABLE export_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, payload BLOB NOT NULL)');
    for (const [destination, text] of [['jaeger', 'x'], ['tempo', 'y'], ['jaeger', 'z']]) db.prepare('INSERT INTO export_queue (destination, payload) VALUES (?, ?)').run(destination, payload(text!));
    db.close();
    const spool = sqlite();
    await spool.warmUp?.();
    expect(spool.queuedSpans('jaeger')).toBe(2);
    expect(spool.peekQueue('jaeger', 0, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['x', 'z']);
    expect(spool.peekQueue('tempo', 0, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['y']);
  });

  it('quarantines a row that cannot be read, counts it and replays the others', () => {
    let spool = sqlite();
    const a = append(spool, 1);
    const b = append(spool, 1);
    const c = append(spool, 1);
    spool.close();
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.prepare('UPDATE log SET events = ? WHERE seq = ?').run('{not json', b.seq);
    db.prepare('UPDATE log SET events = ? WHERE seq = ?').run('[{"id":1}]', c.seq);
    db.close();
    spool = sqlite();
    const replayed = replayAll(spool);
    expect(replayed.filter((e) => !isUnreadable(e))).toEqual([a]);
    expect(replayed.filter(isUnreadable).map((e) => e.seq)).toEqual([b.seq, c.seq]);
    expect(spool.quarantinedEntries()).toBe(2);
    expect(spool.pendingEntries()).toBe(1);
    spool = reopen(spool);
    expect(replayAll(spool)).toEqual([a]);
    expect(spool.quarantinedEntries()).toBe(2);
  });
});
