// The durable Spool on SQLite (better-sqlite3, WAL): the log (one row per accepted request: per-
// event keyed writes cannot meet the throughput goal, DESIGN §6), the export queue, tombstones,
// dead letters and the quarantine of unreadable rows. Knows nothing of assembly or OTel.
//
// The export queue holds batches: one row per destination per commit (its spans packed in
// `export_payloads`, its state in a small `export_batches` row), not one row per span. A span's
// queue id is `batch id × SPAN_SLOTS + its index`, so ids still grow in commit order and the
// port is unchanged. Dequeuing part of a batch sets bits in the batch's `done` bitmap (a small
// row rewritten, the payloads untouched); the batch goes once every span is done, and a span
// marked done is never peeked again, across restarts. Measured with `npm run bench:store`
// (figures in the commit that made it).
import path from 'node:path';
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { packPayloads, unpackPayloads } from './payload-pack.js';
import { createKeyFilter } from './key-filter.js';
import { openStoreDatabase, type OpenStoreOptions } from './open-database.js';
import type { Commit, DeadLetter, QueuedSpan, Spool, SpoolEntry, UnreadableEntry } from './spool.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    events TEXT NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS export_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    spans INTEGER NOT NULL,
    remaining INTEGER NOT NULL,
    remaining_bytes INTEGER NOT NULL,
    sizes BLOB NOT NULL,
    done BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS export_batches_destination ON export_batches (destination, id);
  CREATE TABLE IF NOT EXISTS export_payloads (
    id INTEGER PRIMARY KEY,
    payloads BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS tombstones (
    key TEXT PRIMARY KEY,
    envelope_ids TEXT NOT NULL,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS tombstones_at ON tombstones (at);
  CREATE TABLE IF NOT EXISTS dead_letter_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    destination TEXT NOT NULL,
    reason TEXT NOT NULL,
    payloads BLOB NOT NULL,
    span_count INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    received_at INTEGER,
    source TEXT,
    events TEXT,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
  );
`;

interface LogRow {
  seq: number;
  received_at: number;
  source: string;
  events: string;
  bytes: number;
}

interface DeadLetterRow {
  id: number;
  created_at: number;
  destination: string;
  reason: string;
  payloads: Buffer;
  span_count: number;
}

/** Queue ids per batch: a span's id is `batch id × SPAN_SLOTS + index` (safe integers up to 2^37 batches). */
export const SPAN_SLOTS = 65536;

interface BatchRow {
  id: number;
  destination: string;
  spans: number;
  remaining: number;
  remaining_bytes: number;
  sizes: Buffer;
  done: Buffer;
}

const isDone = (done: Uint8Array, index: number) => (done[index >> 3]! & (1 << (index & 7))) !== 0;

export interface SqliteSpoolOptions extends OpenStoreOptions {
  /** How long tombstones are kept (sizes the key filter's epochs). */
  tombstoneRetentionMillis?: number;
  now?: () => number;
}

/**
 * Opens (or creates) `<dataDir>/bridge.sqlite`, checked (open-database.ts). Throws StoreDamagedError
 * when the file is damaged or cannot be written (or sets a damaged file aside, if asked to).
 */
export function openSqliteSpool(dataDir: string, options: SqliteSpoolOptions = {}): Spool {
  const db = openStoreDatabase(path.join(dataDir, 'bridge.sqlite'), options);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives the process being killed (kill -9); only a power cut or
  // OS crash can lose the last commits. FULL would fsync every request.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const now = options.now ?? Date.now;

  const insertLog = db.prepare<[number, string, string, number]>('INSERT INTO log (received_at, source, events, bytes) VALUES (?, ?, ?, ?)');
  const deleteLog = db.prepare<[number]>('DELETE FROM log WHERE seq = ? RETURNING bytes').pluck();
  const selectLog = db.prepare<[number]>('SELECT seq, received_at, source, events, bytes FROM log WHERE seq = ?');
  const insertBatch = db.prepare<[string, number, number, number, Buffer, Buffer]>(
    'INSERT INTO export_batches (destination, spans, remaining, remaining_bytes, sizes, done) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const insertPayloads = db.prepare<[number | bigint, Buffer]>('INSERT INTO export_payloads (id, payloads) VALUES (?, ?)');
  const peekBatches = db.prepare<[string, number, number]>(
    'SELECT b.id AS id, b.done AS done, p.payloads AS payloads FROM export_batches b JOIN export_payloads p ON p.id = b.id WHERE b.destination = ? AND b.id >= ? ORDER BY b.id LIMIT ?',
  );
  const selectBatch = db.prepare<[number]>('SELECT id, destination, spans, remaining, remaining_bytes, sizes, done FROM export_batches WHERE id = ?');
  const selectPayloads = db.prepare<[number]>('SELECT payloads FROM export_payloads WHERE id = ?').pluck();
  const updateBatch = db.prepare<[number, number, Buffer, number]>('UPDATE export_batches SET remaining = ?, remaining_bytes = ?, done = ? WHERE id = ?');
  const deleteBatch = db.prepare<[number]>('DELETE FROM export_batches WHERE id = ?');
  const deletePayloads = db.prepare<[number]>('DELETE FROM export_payloads WHERE id = ?');
  const upsertTombstone = db.prepare<[string, string, number]>(
    'INSERT INTO tombstones (key, envelope_ids, at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET envelope_ids = excluded.envelope_ids, at = excluded.at',
  );
  const selectTombstone = db.prepare<[string]>('SELECT envelope_ids FROM tombstones WHERE key = ?').pluck();
  const pruneStatement = db.prepare<[number]>('DELETE FROM tombstones WHERE at < ?');
  const insertDeadLetter = db.prepare<[number, string, string, Buffer, number]>(
    'INSERT INTO dead_letter_batches (created_at, destination, reason, payloads, span_count) VALUES (?, ?, ?, ?, ?)',
  );
  const selectDeadLetters = db.prepare('SELECT id, created_at, destination, reason, payloads, span_count FROM dead_letter_batches ORDER BY id');
  const countDeadLetters = db.prepare('SELECT COUNT(*) FROM dead_letter_batches').pluck();
  const deleteDeadLetter = db.prepare<[number]>('DELETE FROM dead_letter_batches WHERE id = ?');
  const quarantineRow = db.prepare<[number, number | null, string | null, string | null, string, number]>(
    'INSERT OR REPLACE INTO quarantine (seq, received_at, source, events, reason, at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const countQuarantine = db.prepare('SELECT COUNT(*) FROM quarantine').pluck();

  // Most keys asked about were never exported: the filter answers those without a query. It is
  // filled by `warmUp` (after the bridge listens): until then every key is looked up.
  const retentionMillis = options.tombstoneRetentionMillis ?? 86_400_000;
  const exportedKeys = createKeyFilter(retentionMillis);
  let filterReady = false;

  const logTotals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM log').get() as { n: number; b: number };
  let entries = logTotals.n;
  let logBytes = logTotals.b;
  // The queue's sizes are summed by `warmUp` too: over a large backlog that reads every row.
  const queued = new Map<string, { spans: number; bytes: number }>();
  let queueBytes = 0;
  let quarantined = countQuarantine.get() as number;

  const queueCount = (destination: string) => {
    let q = queued.get(destination);
    if (!q) {
      q = { spans: 0, bytes: 0 };
      queued.set(destination, q);
    }
    return q;
  };

  // The in-memory totals change only once a transaction committed: a write refused for lack of
  // space (SQLITE_FULL) rolls back, and the totals must still match the file then. The
  // transactions return what they deleted; their callers settle the totals.
  const releaseOne = (seq: number): number => (deleteLog.get(seq) as number | undefined) ?? -1;
  const settleReleased = (sizes: readonly number[]) => {
    for (const size of sizes) {
      if (size < 0) continue;
      entries--;
      logBytes -= size;
    }
  };

  /** One batch row per destination (and per SPAN_SLOTS spans) of a commit. */
  function insertBatches(spans: Commit['spans']): void {
    const byDestination = new Map<string, Uint8Array[]>();
    for (const span of spans) {
      let list = byDestination.get(span.destination);
      if (!list) byDestination.set(span.destination, (list = []));
      list.push(span.payload);
    }
    for (const [destination, payloads] of byDestination) {
      for (let from = 0; from < payloads.length; from += SPAN_SLOTS) {
        const part = payloads.slice(from, from + SPAN_SLOTS);
        const sizes = Buffer.allocUnsafe(4 * part.length);
        let bytes = 0;
        part.forEach((p, i) => {
          sizes.writeUInt32BE(p.byteLength, 4 * i);
          bytes += p.byteLength;
        });
        const info = insertBatch.run(destination, part.length, part.length, bytes, sizes, Buffer.alloc(Math.ceil(part.length / 8)));
        insertPayloads.run(info.lastInsertRowid, packPayloads(part));
      }
    }
  }

  // A store from before batches: its per-span queue rows become batches, in pages, at open.
  const hasOldQueue = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'export_queue'").get() !== undefined;
  if (hasOldQueue) {
    const page = db.prepare<[number]>('SELECT id, destination, payload FROM export_queue WHERE id > ? ORDER BY id LIMIT 1024');
    const migrate = db.transaction(() => {
      for (let after = 0; ; ) {
        const rows = page.all(after) as Array<{ id: number; destination: string; payload: Buffer }>;
        if (rows.length === 0) break;
        insertBatches(rows.map((r) => ({ destination: r.destination, payload: r.payload })));
        after = rows[rows.length - 1]!.id;
      }
      db.exec('DROP TABLE export_queue');
    });
    migrate();
  }

  const commit = db.transaction((c: Commit, atMillis: number) => {
    insertBatches(c.spans);
    // An entity is queued once (assembly forgets it then), so a tombstone is written whole; after
    // a kill -9 replay the same key may come again with the same ids, and replacing is right.
    for (const t of c.tombstones) upsertTombstone.run(t.key, JSON.stringify(t.envelopeIds), atMillis);
    for (const d of c.deadLetters ?? []) insertDeadLetter.run(atMillis, d.destination, d.reason, packPayloads(d.payloads), d.spanCount);
    return c.releaseSeqs.map(releaseOne);
  });

  // Exported spans are marked done without reading their payloads back; only dead letters keep them.
  const dequeue = db.transaction((ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }) => {
    const payloads: Uint8Array[] = [];
    const removed: Array<{ destination: string; spans: number; bytes: number }> = [];
    const byBatch = new Map<number, number[]>();
    for (const id of ids) {
      const batchId = Math.floor(id / SPAN_SLOTS);
      let list = byBatch.get(batchId);
      if (!list) byBatch.set(batchId, (list = []));
      list.push(id - batchId * SPAN_SLOTS);
    }
    for (const [batchId, indexes] of byBatch) {
      const row = selectBatch.get(batchId) as BatchRow | undefined;
      if (!row) continue;
      const done = Buffer.from(row.done);
      const kept = deadLetter ? unpackPayloads(selectPayloads.get(batchId) as Buffer) : undefined;
      let spans = 0;
      let bytes = 0;
      for (const index of indexes) {
        if (index >= row.spans || isDone(done, index)) continue;
        done[index >> 3]! |= 1 << (index & 7);
        spans++;
        bytes += row.sizes.readUInt32BE(4 * index);
        if (kept) payloads.push(kept[index]!);
      }
      if (spans === 0) continue;
      removed.push({ destination: row.destination, spans, bytes });
      if (row.remaining === spans) {
        deleteBatch.run(batchId);
        deletePayloads.run(batchId);
      } else {
        updateBatch.run(row.remaining - spans, row.remaining_bytes - bytes, done, batchId);
      }
    }
    if (deadLetter && payloads.length > 0) {
      insertDeadLetter.run(deadLetter.atMillis, deadLetter.destination, deadLetter.reason, packPayloads(payloads), payloads.length);
    }
    return removed;
  });

  const release = db.transaction((seqs: readonly number[]) => seqs.map(releaseOne));

  const quarantine = db.transaction((row: Partial<LogRow> & { seq: number }, reason: string) => {
    quarantineRow.run(row.seq, row.received_at ?? null, row.source ?? null, row.events ?? null, reason, now());
    return [releaseOne(row.seq)];
  });

  function readRow(row: LogRow): SpoolEntry {
    const source = JSON.parse(row.source) as unknown;
    const events = JSON.parse(row.events) as unknown;
    if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new Error('the source is not an object');
    if (!Array.isArray(events)) throw new Error('the events are not an array');
    for (const event of events) {
      const e = event as Partial<IngestionEvent> | null;
      if (typeof e !== 'object' || e === null || typeof e.id !== 'string' || typeof e.type !== 'string' || typeof e.timestamp !== 'string' || typeof e.body !== 'object' || e.body === null) {
        throw new Error('an event lacks its id, type, timestamp or body');
      }
    }
    return { seq: row.seq, receivedAtMillis: row.received_at, source: source as RequestSource, events: events as IngestionEvent[], bytes: row.bytes };
  }

  function* replay(): IterableIterator<SpoolEntry | UnreadableEntry> {
    // Streamed one row at a time, in seq order, by keyset pages: a statement iterating while the
    // quarantine writes would hold the read open; pages of 256 rows keep memory flat.
    let after = 0;
    const page = db.prepare<[number]>('SELECT seq, received_at, source, events, bytes FROM log WHERE seq > ? ORDER BY seq LIMIT 256');
    for (;;) {
      const rows = page.all(after) as LogRow[];
      if (rows.length === 0) return;
      for (const row of rows) {
        after = row.seq;
        let entry: SpoolEntry;
        try {
          entry = readRow(row);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          settleReleased(quarantine(row, reason));
          quarantined++;
          yield { seq: row.seq, unreadable: reason };
          continue;
        }
        yield entry;
      }
    }
  }

  return {
    durable: true,
    append(entry) {
      const events = JSON.stringify(entry.events);
      const size = Buffer.byteLength(events);
      const info = insertLog.run(entry.receivedAtMillis, JSON.stringify(entry.source), events, size);
      entries++;
      logBytes += size;
      return { ...entry, seq: Number(info.lastInsertRowid), bytes: size };
    },
    replay,
    readEntries(seqs) {
      const out: SpoolEntry[] = [];
      for (const seq of seqs) {
        const row = selectLog.get(seq) as LogRow | undefined;
        if (row) out.push(readRow(row));
      }
      return out;
    },
    commit(c, atMillis) {
      settleReleased(commit(c, atMillis));
      for (const t of c.tombstones) exportedKeys.add(t.key, atMillis);
      for (const span of c.spans) {
        const q = queueCount(span.destination);
        q.spans++;
        q.bytes += span.payload.byteLength;
        queueBytes += span.payload.byteLength;
      }
    },
    release: (seqs) => settleReleased(release(seqs)),
    peekQueue(destination, afterId, limit) {
      const out: QueuedSpan[] = [];
      // Batches in pages: a batch holds up to SPAN_SLOTS spans, usually a slice's worth (64).
      let fromBatch = Math.floor(afterId / SPAN_SLOTS);
      while (out.length < limit) {
        const rows = peekBatches.all(destination, fromBatch, 8) as Array<{ id: number; done: Buffer; payloads: Buffer }>;
        for (const row of rows) {
          const payloads = unpackPayloads(row.payloads);
          for (let index = 0; index < payloads.length && out.length < limit; index++) {
            const id = row.id * SPAN_SLOTS + index;
            if (id <= afterId || isDone(row.done, index)) continue;
            out.push({ id, destination, payload: payloads[index]! });
          }
          if (out.length >= limit) break;
        }
        if (rows.length < 8) break;
        fromBatch = rows[rows.length - 1]!.id + 1;
      }
      return out;
    },
    dequeue(ids, deadLetter) {
      for (const row of dequeue(ids, deadLetter)) {
        const q = queueCount(row.destination);
        q.spans -= row.spans;
        q.bytes -= row.bytes;
        queueBytes -= row.bytes;
      }
    },
    queuedSpans(destination) {
      if (destination !== undefined) return queued.get(destination)?.spans ?? 0;
      let total = 0;
      for (const q of queued.values()) total += q.spans;
      return total;
    },
    pendingBytes: () => logBytes + queueBytes,
    pendingEntries: () => entries,
    quarantinedEntries: () => quarantined,
    async warmUp() {
      // Small rows: the sums no longer read the payloads.
      const totals = db.prepare('SELECT destination, COALESCE(SUM(remaining), 0) AS n, COALESCE(SUM(remaining_bytes), 0) AS b FROM export_batches GROUP BY destination').all() as Array<{
        destination: string;
        n: number;
        b: number;
      }>;
      for (const row of totals) {
        const q = queueCount(row.destination);
        q.spans += row.n;
        q.bytes += row.b;
        queueBytes += row.b;
      }
      // Keyset pages by primary key, yielding between them: health is answered meanwhile.
      const page = db.prepare<[string]>('SELECT key, at FROM tombstones WHERE key > ? ORDER BY key LIMIT 20000').raw();
      let after = '';
      for (;;) {
        const rows = page.all(after) as Array<[string, number]>;
        for (const [key, at] of rows) exportedKeys.add(key, at);
        if (rows.length < 20000) break;
        after = rows[rows.length - 1]![0];
        await new Promise((resolve) => setImmediate(resolve));
      }
      filterReady = true;
    },
    getTombstone(key) {
      if (filterReady && !exportedKeys.mightContain(key)) return undefined;
      const text = selectTombstone.get(key) as string | undefined;
      return text ? new Set(JSON.parse(text) as string[]) : undefined;
    },
    pruneTombstones(beforeMillis) {
      exportedKeys.prune(beforeMillis);
      return pruneStatement.run(beforeMillis).changes;
    },
    listDeadLetters: () =>
      (selectDeadLetters.all() as DeadLetterRow[]).map(
        (row): DeadLetter => ({
          id: row.id,
          createdAtMillis: row.created_at,
          destination: row.destination,
          reason: row.reason,
          payloads: unpackPayloads(row.payloads),
          spanCount: row.span_count,
        }),
      ),
    deadLetterCount: () => countDeadLetters.get() as number,
    deleteDeadLetters(ids) {
      for (const id of ids) deleteDeadLetter.run(id);
    },
    close() {
      if (db.open) db.close();
    },
  };
}
