// The export queue and the record of exported entities on SQLite (export-queue.ts,
// exported-entities.ts): queued payloads in batches, tombstones, dead letters. Built together
// because `commit` writes payloads and tombstones in one transaction. Shares the database file
// opened by sqlite-store.ts; owns the `export_batches`, `export_payloads` (and, in a store from
// before batches, `export_queue`) and `dead_letter_batches` tables only; the record of exported
// entities' tables are sqlite-exported-keys.ts's.
//
// The queue holds batches: one row per queue per commit (its payloads packed in `export_payloads`,
// its state in a small `export_batches` row), not one row per payload. An item's id is `batch id ×
// ITEM_SLOTS + its index`, so ids still grow in commit order and the port is unchanged. Dequeuing
// part of a batch sets bits in the batch's `done` bitmap (the small row rewritten, the payloads
// untouched); the batch goes once every item is done, and an item marked done is never peeked
// again, across restarts. Measured with `npm run bench:store` (figures in the commit that made it).
//
// Tombstones are written by sqlite-exported-keys.ts, inside this module's commit transaction: a
// level-0 row per commit, merged into `exported_keys` in key order once enough are held (its
// header has the figures: the tombstones' share of bench:store's CPU went from ~27 to ~10 µs per
// entity). The merge's slices run after a commit, each its own transaction, never failing it.
import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterHolds, ExportQueue, QueueCommit, QueuedItem } from './export-queue.js';
import type { ExportedEntities } from './exported-entities.js';
import { createSqliteExportedKeys } from './sqlite-exported-keys.js';
import { packPayloads, unpackPayloads } from './payload-pack.js';

export const EXPORT_QUEUE_SCHEMA = `
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
  CREATE TABLE IF NOT EXISTS dead_letter_batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    destination TEXT NOT NULL,
    reason TEXT NOT NULL,
    payloads BLOB NOT NULL,
    span_count INTEGER NOT NULL,
    holds TEXT NOT NULL DEFAULT 'payloads'
  );
`;

/**
 * A store written before dead letters said what they hold gets the column; its letters of
 * records that could not be mapped are known by their reason.
 */
function addHoldsColumn(db: Database.Database): void {
  const columns = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('dead_letter_batches') as string[];
  if (columns.includes('holds')) return;
  db.transaction(() => {
    db.exec("ALTER TABLE dead_letter_batches ADD COLUMN holds TEXT NOT NULL DEFAULT 'payloads'");
    db.exec("UPDATE dead_letter_batches SET holds = 'record' WHERE reason LIKE 'could not map or encode the span%'");
  })();
}

/** Item ids per batch: an item's id is `batch id × ITEM_SLOTS + index` (safe integers up to 2^37 batches). */
export const ITEM_SLOTS = 65536;

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

interface DeadLetterRow {
  id: number;
  created_at: number;
  destination: string;
  reason: string;
  payloads: Buffer;
  span_count: number;
  holds: string;
}

export interface SqliteExportStore {
  queue: ExportQueue;
  exported: ExportedEntities;
  /** Sums the queue and loads the tombstone filter (after the bridge listens). */
  warmUp(): Promise<void>;
}

export function createSqliteExportStore(
  db: Database.Database,
  options: { tombstoneRetentionMillis?: number; level0MaxKeys?: number; mergeSliceKeys?: number } = {},
): SqliteExportStore {
  db.exec(EXPORT_QUEUE_SCHEMA);
  addHoldsColumn(db);
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
  const insertDeadLetter = db.prepare<[number, string, string, Buffer, number, DeadLetterHolds]>(
    'INSERT INTO dead_letter_batches (created_at, destination, reason, payloads, span_count, holds) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const selectDeadLetters = db.prepare('SELECT id, created_at, destination, reason, payloads, span_count, holds FROM dead_letter_batches ORDER BY id');
  const countDeadLetters = db.prepare('SELECT COUNT(*) FROM dead_letter_batches').pluck();
  const deleteDeadLetter = db.prepare<[number]>('DELETE FROM dead_letter_batches WHERE id = ?');

  const exportedKeys = createSqliteExportedKeys(db, options);

  // The queue's sizes are summed by `warmUp` (small rows, after the bridge listens).
  const queued = new Map<string, { items: number; bytes: number }>();
  let queueBytes = 0;
  const queueCount = (name: string) => {
    let q = queued.get(name);
    if (!q) {
      q = { items: 0, bytes: 0 };
      queued.set(name, q);
    }
    return q;
  };

  /** One batch row per queue (and per ITEM_SLOTS items) of a commit. */
  function insertBatches(items: QueueCommit['items']): void {
    const byQueue = new Map<string, Uint8Array[]>();
    for (const item of items) {
      let list = byQueue.get(item.queue);
      if (!list) byQueue.set(item.queue, (list = []));
      list.push(item.payload);
    }
    for (const [name, payloads] of byQueue) {
      for (let from = 0; from < payloads.length; from += ITEM_SLOTS) {
        const part = payloads.slice(from, from + ITEM_SLOTS);
        const sizes = Buffer.allocUnsafe(4 * part.length);
        let bytes = 0;
        part.forEach((p, i) => {
          sizes.writeUInt32BE(p.byteLength, 4 * i);
          bytes += p.byteLength;
        });
        const info = insertBatch.run(name, part.length, part.length, bytes, sizes, Buffer.alloc(Math.ceil(part.length / 8)));
        insertPayloads.run(info.lastInsertRowid, packPayloads(part));
      }
    }
  }

  // A store from before batches: its per-item queue rows become batches, in pages, at open.
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'export_queue'").get() !== undefined) {
    const page = db.prepare<[number]>('SELECT id, destination, payload FROM export_queue WHERE id > ? ORDER BY id LIMIT 1024');
    db.transaction(() => {
      for (let after = 0; ; ) {
        const rows = page.all(after) as Array<{ id: number; destination: string; payload: Buffer }>;
        if (rows.length === 0) break;
        insertBatches(rows.map((r) => ({ queue: r.destination, payload: r.payload })));
        after = rows[rows.length - 1]!.id;
      }
      db.exec('DROP TABLE export_queue');
    })();
  }

  // In-memory totals change only once a transaction committed (a SQLITE_FULL rolls back).
  const commit = db.transaction((c: QueueCommit, atMillis: number) => {
    insertBatches(c.items);
    // An entity is queued once (assembly forgets it then), so a tombstone is written whole; after
    // a kill -9 replay the same key may come again with the same ids, and the later record wins.
    const written = exportedKeys.write(c.tombstones, atMillis);
    for (const d of c.deadLetters ?? []) insertDeadLetter.run(atMillis, d.destination, d.reason, packPayloads(d.payloads), d.spanCount, d.holds);
    return written;
  });

  // Exported items are marked done without reading their payloads back; only dead letters keep them.
  const dequeue = db.transaction((ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }) => {
    const payloads: Uint8Array[] = [];
    const removed: Array<{ destination: string; items: number; bytes: number }> = [];
    const byBatch = new Map<number, number[]>();
    for (const id of ids) {
      const batchId = Math.floor(id / ITEM_SLOTS);
      let list = byBatch.get(batchId);
      if (!list) byBatch.set(batchId, (list = []));
      list.push(id - batchId * ITEM_SLOTS);
    }
    for (const [batchId, indexes] of byBatch) {
      const row = selectBatch.get(batchId) as BatchRow | undefined;
      if (!row) continue;
      const done = Buffer.from(row.done);
      const kept = deadLetter ? unpackPayloads(selectPayloads.get(batchId) as Buffer) : undefined;
      let items = 0;
      let bytes = 0;
      for (const index of indexes) {
        if (index >= row.spans || isDone(done, index)) continue;
        done[index >> 3]! |= 1 << (index & 7);
        items++;
        bytes += row.sizes.readUInt32BE(4 * index);
        if (kept) payloads.push(kept[index]!);
      }
      if (items === 0) continue;
      removed.push({ destination: row.destination, items, bytes });
      if (row.remaining === items) {
        deleteBatch.run(batchId);
        deletePayloads.run(batchId);
      } else {
        updateBatch.run(row.remaining - items, row.remaining_bytes - bytes, done, batchId);
      }
    }
    if (deadLetter && payloads.length > 0) {
      insertDeadLetter.run(deadLetter.atMillis, deadLetter.destination, deadLetter.reason, packPayloads(payloads), payloads.length, 'payloads');
    }
    return removed;
  });

  const queue: ExportQueue = {
    commit(c, atMillis) {
      const written = commit(c, atMillis);
      for (const item of c.items) {
        const q = queueCount(item.queue);
        q.items++;
        q.bytes += item.payload.byteLength;
        queueBytes += item.payload.byteLength;
      }
      // Then at most one slice of a level-0 merge (its own transaction; never throws).
      exportedKeys.committed(written);
    },
    peek(name, afterId, limit) {
      const out: QueuedItem[] = [];
      // Batches in pages: a batch holds up to ITEM_SLOTS items, usually a slice's worth (64).
      let fromBatch = Math.floor(afterId / ITEM_SLOTS);
      while (out.length < limit) {
        const rows = peekBatches.all(name, fromBatch, 8) as Array<{ id: number; done: Buffer; payloads: Buffer }>;
        for (const row of rows) {
          const payloads = unpackPayloads(row.payloads);
          for (let index = 0; index < payloads.length && out.length < limit; index++) {
            const id = row.id * ITEM_SLOTS + index;
            if (id <= afterId || isDone(row.done, index)) continue;
            out.push({ id, queue: name, payload: payloads[index]! });
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
        q.items -= row.items;
        q.bytes -= row.bytes;
        queueBytes -= row.bytes;
      }
    },
    queuedItems(name) {
      if (name !== undefined) return queued.get(name)?.items ?? 0;
      let total = 0;
      for (const q of queued.values()) total += q.items;
      return total;
    },
    queuedBytes: () => queueBytes,
    listDeadLetters: () =>
      (selectDeadLetters.all() as DeadLetterRow[]).map(
        (row): DeadLetter => ({
          id: row.id,
          createdAtMillis: row.created_at,
          destination: row.destination,
          holds: row.holds === 'record' ? 'record' : 'payloads',
          reason: row.reason,
          payloads: unpackPayloads(row.payloads),
          spanCount: row.span_count,
        }),
      ),
    deadLetterCount: () => countDeadLetters.get() as number,
    deleteDeadLetters(ids) {
      for (const id of ids) deleteDeadLetter.run(id);
    },
  };

  async function warmUp(): Promise<void> {
    // Small rows: the sums no longer read the payloads.
    const totals = db.prepare('SELECT destination, COALESCE(SUM(remaining), 0) AS n, COALESCE(SUM(remaining_bytes), 0) AS b FROM export_batches GROUP BY destination').all() as Array<{
      destination: string;
      n: number;
      b: number;
    }>;
    for (const row of totals) {
      const q = queueCount(row.destination);
      q.items += row.n;
      q.bytes += row.b;
      queueBytes += row.b;
    }
    await exportedKeys.warmUp();
  }

  return { queue, exported: exportedKeys.exported, warmUp };
}
