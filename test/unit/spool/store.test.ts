// The three store ports (src/spool/request-log.ts, export-queue.ts, exported-entities.ts) on both
// stores, and what only the SQLite store promises: the log, the export queue, tombstones and dead
// letters survive closing and reopening the data directory, and a row that cannot be read is
// quarantined instead of stopping a replay.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import { createMemoryStore } from '../../../src/spool/memory-store.js';
import { isUnreadable, storeEvents, type LogEntry, type RequestLog } from '../../../src/spool/request-log.js';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { openSqliteStore, walCheckpointPages } from '../../../src/spool/sqlite-store.js';
import { pendingBytes, type Store } from '../../../src/spool/store.js';
import { envelope } from '../../helpers/ingestion-events.js';

let dataDir: string;
const open: Store[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-spool-'));
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function sqlite(): Store {
  const store = openSqliteStore(dataDir);
  open.push(store);
  return store;
}

function reopen(store: Store): Store {
  store.close();
  return sqlite();
}

let counter = 0;
function events(n: number, text = 'x'): IngestionEvent[] {
  return Array.from({ length: n }, () => {
    counter++;
    const body = { id: `span-${counter}`, name: `${text} ✓ "quoted" \u2028`, environment: 'default', metadata: { n: counter, nested: [1, { a: null }] } };
    return envelope('span-create', body, { id: `ev-${counter}`, timestamp: '2026-11-26T12:00:00.123456Z' }) as unknown as IngestionEvent;
  });
}

function append(log: RequestLog, n = 2, text?: string): LogEntry {
  return log.append({ receivedAtMillis: 1_764_158_400_000 + counter, source: { sdkName: 'python', sdkIntegration: 'litellm' }, events: events(n, text) });
}

const payload = (text: string) => Buffer.from(text);
/** Which of `candidates` an exported entity's ids hold (a store may keep only their hashes). */
const heldIds = (ids: { has(id: string): boolean } | undefined, candidates: readonly string[]) => (ids ? candidates.filter((c) => ids.has(c)) : undefined);
const replayAll = (log: RequestLog) => [...log.replay()];

describe.each([
  ['sqlite', sqlite],
  ['memory', createMemoryStore],
] as const)('%s store: the ports\' contract', (_name, make) => {
  it('numbers entries in increasing order, sizes them as the stored JSON of their events and replays them in order', () => {
    const { log, queue, exported } = make();
    const store = { log, queue };
    const a = append(log, 1);
    const b = append(log, 3);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a.bytes).toBe(Buffer.byteLength(JSON.stringify(a.events)));
    expect(pendingBytes(store)).toBe(a.bytes + b.bytes);
    expect(replayAll(log)).toEqual([a, b]);
    expect(log.readEntries([b.seq])).toEqual([b]);
  });

  it('reads single events of an entry back, in the order asked; none of an entry released or unknown', () => {
    const { log } = make();
    const a = append(log, 3);
    const b = append(log, 2);
    expect(log.readEvents(a.seq, [2, 0])).toEqual([a.events[2], a.events[0]]);
    expect(log.readEvents(b.seq, [1])).toEqual([b.events[1]]);
    expect(log.readEvents(a.seq, [])).toEqual([]);
    expect(() => log.readEvents(b.seq, [2])).toThrow(/no event 2/);
    log.release([a.seq]);
    expect(log.readEvents(a.seq, [0])).toEqual([]);
    expect(log.readEvents(b.seq + 1, [0])).toEqual([]);
  });

  it('commits queued items and their tombstones together; the log releases apart, idempotently', () => {
    const { log, queue, exported } = make();
    const store = { log, queue };
    const a = append(log, 1);
    const b = append(log, 1);
    queue.commit(
      {
        items: [
          { queue: 'jaeger', payload: payload('span-1') },
          { queue: 'langfuse', payload: payload('span-1-lf') },
          { queue: 'jaeger', payload: payload('span-2') },
        ],
        tombstones: [{ key: 'obs:span-1', envelopeIds: ['ev-1'] }],
      },
      1_000,
    );
    expect(log.pendingEntries()).toBe(2);
    log.release([a.seq]);
    log.release([a.seq]);
    expect(log.pendingEntries()).toBe(1);
    expect(replayAll(log)).toEqual([b]);
    expect(heldIds(exported.exportedEnvelopeIds('obs:span-1'), ['ev-1', 'ev-2', 'span-1'])).toEqual(['ev-1']);
    expect(exported.exportedEnvelopeIds('obs:other')).toBeUndefined();
    expect(queue.queuedItems()).toBe(3);
    expect(queue.queuedItems('jaeger')).toBe(2);
    expect(pendingBytes(store)).toBe(b.bytes + 'span-1span-1-lfspan-2'.length);
    const jaeger = queue.peek('jaeger', 0, 10);
    expect(jaeger.map((s) => Buffer.from(s.payload).toString())).toEqual(['span-1', 'span-2']);
    expect(queue.peek('jaeger', jaeger[0]!.id, 10).map((s) => Buffer.from(s.payload).toString())).toEqual(['span-2']);
    expect(queue.peek('jaeger', 0, 1)).toHaveLength(1);
  });

  it('dequeues what was sent, and dead-letters refused spans with their payloads', () => {
    const { log, queue, exported } = make();
    const store = { log, queue };
    queue.commit({ items: ['a', 'b', 'c'].map((t) => ({ queue: 'd', payload: payload(t) })), tombstones: [] }, 0);
    const [a, b, c] = queue.peek('d', 0, 10);
    queue.dequeue([a!.id]);
    queue.dequeue([b!.id, c!.id], { destination: 'd', reason: 'HTTP 400: bad span', atMillis: 5 });
    expect(queue.queuedItems()).toBe(0);
    expect(pendingBytes(store)).toBe(0);
    const letters = queue.listDeadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ destination: 'd', reason: 'HTTP 400: bad span', spanCount: 2, createdAtMillis: 5 });
    expect(letters[0]!.payloads.map((p) => Buffer.from(p).toString())).toEqual(['b', 'c']);
    expect(queue.deadLetterCount()).toBe(1);
    queue.deleteDeadLetters([letters[0]!.id]);
    expect(queue.listDeadLetters()).toEqual([]);
  });

  it('prunes tombstones older than the cut-off', () => {
    const { log, queue, exported } = make();
    const store = { log, queue };
    queue.commit({ items: [], tombstones: [{ key: 'trace:old', envelopeIds: [] }] }, 1_000);
    queue.commit({ items: [], tombstones: [{ key: 'trace:new', envelopeIds: ['x'] }] }, 5_000);
    expect(exported.prune(2_000)).toBe(1);
    expect(exported.exportedEnvelopeIds('trace:old')).toBeUndefined();
    expect(heldIds(exported.exportedEnvelopeIds('trace:new'), ['x', 'y'])).toEqual(['x']);
  });

  it('releases entries that hold nothing to export', () => {
    const { log, queue, exported } = make();
    const store = { log, queue };
    const a = append(log, 2);
    log.release([a.seq, a.seq + 1000]);
    expect(log.pendingEntries()).toBe(0);
    expect(pendingBytes(store)).toBe(0);
  });
});

describe('sqlite store: what survives a restart', () => {
  it('keeps the log, the queue per destination, tombstones and dead letters across a reopen', async () => {
    let store = sqlite();
    const a = append(store.log, 2, 'kept');
    store.queue.commit({ items: [{ queue: 'jaeger', payload: payload('queued') }], tombstones: [{ key: 'obs:x', envelopeIds: ['e'] }] }, 10);
    store.queue.commit({ items: [{ queue: 'jaeger', payload: payload('refused') }], tombstones: [] }, 10);
    const refused = store.queue.peek('jaeger', 0, 10)[1]!;
    store.queue.dequeue([refused.id], { destination: 'jaeger', reason: 'HTTP 401', atMillis: 11 });
    const bytes = pendingBytes(store);
    store = reopen(store);
    // Before warm-up the queue is not summed yet, and tombstones are looked up without the filter.
    expect(store.queue.queuedItems()).toBe(0);
    expect(heldIds(store.exported.exportedEnvelopeIds('obs:x'), ['e', 'f'])).toEqual(['e']);
    await store.warmUp();
    expect(replayAll(store.log)).toEqual([a]);
    expect(pendingBytes(store)).toBe(bytes);
    expect(store.queue.queuedItems('jaeger')).toBe(1);
    expect(Buffer.from(store.queue.peek('jaeger', 0, 10)[0]!.payload).toString()).toBe('queued');
    expect(heldIds(store.exported.exportedEnvelopeIds('obs:x'), ['e', 'f'])).toEqual(['e']);
    expect(store.queue.listDeadLetters().map((d) => d.reason)).toEqual(['HTTP 401']);
  });

  it('holds a commit as one batch row per queue; a partly exported batch never gives back what was dequeued, across a reopen', async () => {
    let store = sqlite();
    const names = ['a', 'b', 'c', 'd', 'e'];
    store.queue.commit({ items: names.flatMap((t) => [{ queue: 'jaeger', payload: payload(t) }, { queue: 'tempo', payload: payload(t) }]), tombstones: [] }, 0);
    store.queue.commit({ items: [{ queue: 'jaeger', payload: payload('f') }], tombstones: [] }, 0);
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
    const text = (items: Array<{ payload: Uint8Array }>) => items.map((i) => Buffer.from(i.payload).toString());
    const jaeger = store.queue.peek('jaeger', 0, 10);
    expect(text(jaeger)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    // Out of order and in pieces, as a worker that halved a batch would.
    store.queue.dequeue([jaeger[1]!.id, jaeger[3]!.id]);
    store.queue.dequeue([jaeger[1]!.id]);
    expect(store.queue.queuedItems('jaeger')).toBe(4);
    store = reopen(store);
    await store.warmUp();
    expect(store.queue.queuedItems('jaeger')).toBe(4);
    expect(store.queue.queuedItems('tempo')).toBe(5);
    expect(text(store.queue.peek('jaeger', 0, 10))).toEqual(['a', 'c', 'e', 'f']);
    expect(text(store.queue.peek('jaeger', 0, 2))).toEqual(['a', 'c']);
    expect(text(store.queue.peek('jaeger', jaeger[2]!.id, 10))).toEqual(['e', 'f']);
    store.queue.dequeue([jaeger[0]!.id, jaeger[2]!.id, jaeger[4]!.id], { destination: 'jaeger', reason: 'HTTP 400', atMillis: 1 });
    expect(store.queue.listDeadLetters()[0]!.payloads.map((p) => Buffer.from(p).toString())).toEqual(['a', 'c', 'e']);
    expect(rows()).toEqual([
      { destination: 'tempo', spans: 5, remaining: 5 },
      { destination: 'jaeger', spans: 1, remaining: 1 },
    ]);
    expect(store.queue.queuedBytes()).toBe(6);
  });

  it('turns the per-item queue of a store from before batches into batches at open, in order', async () => {
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('CREATE TABLE export_queue (id INTEGER PRIMARY KEY AUTOINCREMENT, destination TEXT NOT NULL, payload BLOB NOT NULL)');
    for (const [name, text] of [['jaeger', 'x'], ['tempo', 'y'], ['jaeger', 'z']]) db.prepare('INSERT INTO export_queue (destination, payload) VALUES (?, ?)').run(name, payload(text!));
    db.close();
    const store = sqlite();
    await store.warmUp();
    expect(store.queue.queuedItems('jaeger')).toBe(2);
    expect(store.queue.peek('jaeger', 0, 10).map((i) => Buffer.from(i.payload).toString())).toEqual(['x', 'z']);
    expect(store.queue.peek('tempo', 0, 10).map((i) => Buffer.from(i.payload).toString())).toEqual(['y']);
  });

  it('hashes the text tombstones of a store from before compact keys at open: exported entities stay exported', async () => {
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('CREATE TABLE tombstones (key TEXT PRIMARY KEY, envelope_ids TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID; CREATE INDEX tombstones_at ON tombstones (at)');
    const insert = db.prepare('INSERT INTO tombstones (key, envelope_ids, at) VALUES (?, ?, ?)');
    // More than one page of the migration (1,024 rows).
    db.transaction(() => {
      for (let i = 0; i < 1_500; i++) insert.run(`obs:old-${i}`, JSON.stringify([`ev-${i}`, `ev-${i}-update`]), 1_000 + i);
      insert.run('trace@tenant-a:t1', '[]', 9_000);
    })();
    db.close();
    let store = sqlite();
    // Before warm-up (the filter is empty) and after it (the filter is filled from the hashes).
    for (const phase of ['before', 'after'] as const) {
      if (phase === 'after') await store.warmUp();
      expect(heldIds(store.exported.exportedEnvelopeIds('obs:old-7'), ['ev-7', 'ev-7-update', 'ev-8'])).toEqual(['ev-7', 'ev-7-update']);
      expect(heldIds(store.exported.exportedEnvelopeIds('obs:old-1499'), ['ev-1499'])).toEqual(['ev-1499']);
      expect(heldIds(store.exported.exportedEnvelopeIds('trace@tenant-a:t1'), ['x'])).toEqual([]);
      expect(store.exported.exportedEnvelopeIds('obs:old-1500')).toBeUndefined();
      expect(store.exported.exportedEnvelopeIds('trace:t1')).toBeUndefined();
    }
    // Pruned by their old times; the text table is gone, so a reopen does not migrate again.
    expect(store.exported.prune(1_500)).toBe(500);
    expect(store.exported.exportedEnvelopeIds('obs:old-499')).toBeUndefined();
    store = reopen(store);
    expect(heldIds(store.exported.exportedEnvelopeIds('obs:old-500'), ['ev-500'])).toEqual(['ev-500']);
    const check = new Database(path.join(dataDir, 'bridge.sqlite'), { readonly: true });
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = 'tombstones'").all()).toEqual([]);
    check.close();
  });

  it('answers like the memory store for any tombstones and lookups (compact keys beside plain sets)', async () => {
    const id = fc.constantFrom('a', 'b', 'ev-1', 'ev-2', '', 'é✓', 'x'.repeat(40));
    const key = fc.oneof(fc.constantFrom('obs:1', 'trace:1', 'trace@t:1', 'score:1', 'pass:1'), fc.string({ maxLength: 30 }));
    const compact = sqlite();
    const plain = createMemoryStore();
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ key, envelopeIds: fc.uniqueArray(id, { maxLength: 3 }) }), { maxLength: 12 }), fc.array(key, { maxLength: 6 }), async (tombstones, others) => {
        // One store for every run (opening one is slow): each run's keys under their own prefix.
        const prefix = `run-${++runs}/`;
        // Half the runs before the key filter is filled, half after.
        if (runs === 100) await compact.warmUp();
        for (const [i, t] of tombstones.entries()) {
          const tombstone = { key: prefix + t.key, envelopeIds: t.envelopeIds };
          compact.queue.commit({ items: [], tombstones: [tombstone] }, i);
          plain.queue.commit({ items: [], tombstones: [tombstone] }, i);
        }
        for (const k of [...tombstones.map((t) => t.key), ...others]) {
          const a = compact.exported.exportedEnvelopeIds(prefix + k);
          const b = plain.exported.exportedEnvelopeIds(prefix + k);
          expect(a === undefined).toBe(b === undefined);
          for (const candidate of ['a', 'b', 'ev-1', 'ev-2', '', 'é✓', 'x'.repeat(40), 'other']) expect(a?.has(candidate)).toBe(b?.has(candidate));
        }
      }),
      { numRuns: 200 },
    );
  });

  it('quarantines a row that cannot be read, counts it and replays the others', () => {
    let store = sqlite();
    const a = append(store.log, 1);
    const b = append(store.log, 1);
    const c = append(store.log, 1);
    store.close();
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.prepare('UPDATE log SET events = ? WHERE seq = ?').run('{not json', b.seq);
    db.prepare('UPDATE log SET events = ? WHERE seq = ?').run('[{"id":1}]', c.seq);
    db.close();
    store = sqlite();
    const replayed = replayAll(store.log);
    expect(replayed.filter((e) => !isUnreadable(e))).toEqual([a]);
    expect(replayed.filter(isUnreadable).map((e) => e.seq)).toEqual([b.seq, c.seq]);
    expect(store.log.quarantinedEntries()).toBe(2);
    expect(store.log.pendingEntries()).toBe(1);
    store = reopen(store);
    expect(replayAll(store.log)).toEqual([a]);
    expect(store.log.quarantinedEntries()).toBe(2);
  });
});

describe('sqlite log: single events read back from their slices', () => {
  /** Events with text that UTF-8 takes 1 to 4 bytes a character for, and escapes JSON writes. */
  function unicodeEvents(): IngestionEvent[] {
    const texts = ['plain', 'é ü ß', '中文字符', '\u{1F600} \u{1F680}', 'lone \uD800 and \uDC00', 'nul \u0000 \u2028 "q" \\'];
    return texts.map((text, i) => envelope('span-create', { id: `u-${i}`, name: text, input: { text, list: [text, i] } }, { id: `ev-u-${i}`, timestamp: '2026-11-26T12:00:00Z' }) as unknown as IngestionEvent);
  }

  it('stores the UTF-8 of the events\' JSON array, and reads each event of a unicode entry back from its byte offsets', () => {
    let store = sqlite();
    const events = unicodeEvents();
    const entry = store.log.append({ receivedAtMillis: 1, source: {}, events });
    const json = JSON.stringify(events);
    // Bytes, not UTF-16 units: the two differ here.
    expect(json.length).not.toBe(Buffer.byteLength(json));
    expect(entry.bytes).toBe(Buffer.byteLength(json));
    const whole = JSON.parse(json) as IngestionEvent[];
    for (let i = 0; i < events.length; i++) expect(store.log.readEvents(entry.seq, [i])).toEqual([whole[i]]);
    store = reopen(store);
    expect(store.log.readEvents(entry.seq, [5, 3, 4])).toEqual([whole[5], whole[3], whole[4]]);
    expect(replayAll(store.log)).toEqual([entry]);
  });

  it('reads rows written before the offsets (TEXT, no `ends`) whole, and writes new rows beside them', () => {
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY AUTOINCREMENT, received_at INTEGER NOT NULL, source TEXT NOT NULL, events TEXT NOT NULL, bytes INTEGER NOT NULL)');
    const old = unicodeEvents();
    const text = JSON.stringify(old);
    db.prepare('INSERT INTO log (received_at, source, events, bytes) VALUES (?, ?, ?, ?)').run(5, '{}', text, Buffer.byteLength(text));
    db.close();
    let store = sqlite();
    const [replayed] = replayAll(store.log) as LogEntry[];
    expect(replayed!.events).toEqual(JSON.parse(text));
    expect(store.log.readEvents(replayed!.seq, [3, 0])).toEqual([old[3], old[0]]);
    const fresh = append(store.log, 2);
    expect(store.log.readEvents(fresh.seq, [1])).toEqual([fresh.events[1]]);
    store = reopen(store);
    expect(replayAll(store.log).map((e) => (e as LogEntry).seq)).toEqual([replayed!.seq, fresh.seq]);
    expect(store.log.readEvents(replayed!.seq, [1])).toEqual([old[1]]);
    expect(store.log.pendingBytes()).toBe(Buffer.byteLength(text) + fresh.bytes);
  });

  it('refuses offsets that do not fit the row rather than parse the wrong slice', () => {
    let store = sqlite();
    const a = append(store.log, 2);
    store.close();
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.prepare('UPDATE log SET ends = ? WHERE seq = ?').run(Buffer.from([0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0]), a.seq);
    db.close();
    store = sqlite();
    expect(() => store.log.readEvents(a.seq, [1])).toThrow(/offset/);
  });

  it('reads any events of any entry as JSON.parse of the whole entry gives them', () => {
    const store = sqlite();
    const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.constantFrom('é', '\u{1F600}', '\uD800', '\u2028', '"\\'));
    const event = fc.record({ id: text, name: text, input: fc.jsonValue({ maxDepth: 2 }) });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (drawn, picks) => {
        const events = drawn.map((e, i) => envelope('span-create', { id: e.id, name: e.name, input: e.input }, { id: `ev-${i}`, timestamp: '2026-11-26T12:00:00Z' }) as unknown as IngestionEvent);
        const json = JSON.stringify(events);
        expect(storeEvents(events).text.equals(Buffer.from(json))).toBe(true);
        const entry = store.log.append({ receivedAtMillis: 0, source: {}, events });
        const indices = picks.map((p) => p % events.length);
        const whole = JSON.parse(json) as IngestionEvent[];
        expect(store.log.readEvents(entry.seq, indices)).toEqual(indices.map((i) => whole[i]));
        expect(entry.bytes).toBe(Buffer.byteLength(json));
        store.log.release([entry.seq]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sqlite store: dead letters say what they hold', () => {
  it('keeps `holds` across a reopen, and gives a store written before it the column (mapping failures as records)', () => {
    let store = sqlite();
    store.queue.commit({ items: [], tombstones: [], deadLetters: [{ destination: 'd', holds: 'record', reason: 'could not map or encode the span: x', payloads: [payload('{}')], spanCount: 1 }] }, 1);
    store = reopen(store);
    expect(store.queue.listDeadLetters().map((l) => l.holds)).toEqual(['record']);
    store.close();
    // A store of the previous layout: no `holds` column.
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('DROP TABLE dead_letter_batches');
    db.exec('CREATE TABLE dead_letter_batches (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at INTEGER NOT NULL, destination TEXT NOT NULL, reason TEXT NOT NULL, payloads BLOB NOT NULL, span_count INTEGER NOT NULL)');
    const insert = db.prepare('INSERT INTO dead_letter_batches (created_at, destination, reason, payloads, span_count) VALUES (1, ?, ?, ?, 1)');
    insert.run('d', 'HTTP 400: bad span', Buffer.alloc(0));
    insert.run('d', 'could not map or encode the span: boom', Buffer.alloc(0));
    db.close();
    store = sqlite();
    expect(store.queue.listDeadLetters().map((l) => [l.reason, l.holds])).toEqual([
      ['HTTP 400: bad span', 'payloads'],
      ['could not map or encode the span: boom', 'record'],
    ]);
  });
});

describe('walCheckpointPages', () => {
  it('keeps up to 12 MiB of WAL between checkpoints, an eighth of the free space at most, never less than SQLite\'s 1000 pages', () => {
    const MiB = 1024 * 1024;
    expect(walCheckpointPages(10 * 1024 * MiB, 4096)).toBe(3_072);
    expect(walCheckpointPages(80 * MiB, 4096)).toBe(2_560);
    // A 20 MiB disk (the tmpfs tests) keeps the default.
    expect(walCheckpointPages(20 * MiB, 4096)).toBe(1_000);
    expect(walCheckpointPages(0, 4096)).toBe(1_000);
    expect(walCheckpointPages(10 * 1024 * MiB, 1024)).toBe(12_288);
  });
});
