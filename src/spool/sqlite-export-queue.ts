// The export queue and the record of exported entities on SQLite (export-queue.ts,
// exported-entities.ts): one row per encoded payload and queue, tombstones, dead letters. Built
// together because `commit` writes payloads and tombstones in one transaction. Shares the
// database file opened by sqlite-store.ts; owns the `export_queue`, `tombstones` and
// `dead_letter_batches` tables only.
import type Database from 'better-sqlite3';
import type { DeadLetter, DeadLetterHolds, ExportQueue, QueueCommit, QueuedItem } from './export-queue.js';
import type { ExportedEntities } from './exported-entities.js';
import { createKeyFilter } from './key-filter.js';
import { packPayloads, unpackPayloads } from './payload-pack.js';

export const EXPORT_QUEUE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS export_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    payload BLOB NOT NULL
  );
  CREATE INDEX IF NOT EXISTS export_queue_destination ON export_queue (destination, id);
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

export function createSqliteExportStore(db: Database.Database, options: { tombstoneRetentionMillis?: number } = {}): SqliteExportStore {
  db.exec(EXPORT_QUEUE_SCHEMA);
  addHoldsColumn(db);
  const insertQueue = db.prepare<[string, Uint8Array]>('INSERT INTO export_queue (destination, payload) VALUES (?, ?)');
  const peekQueue = db.prepare<[string, number, number]>(
    'SELECT id, destination, payload FROM export_queue WHERE destination = ? AND id > ? ORDER BY id LIMIT ?',
  );
  // Exported items are deleted without reading their payloads back; only dead letters keep them.
  const deleteQueue = db.prepare<[number]>('DELETE FROM export_queue WHERE id = ? RETURNING destination, length(payload) AS bytes');
  const deleteQueueKeeping = db.prepare<[number]>('DELETE FROM export_queue WHERE id = ? RETURNING destination, length(payload) AS bytes, payload');
  const upsertTombstone = db.prepare<[string, string, number]>(
    'INSERT INTO tombstones (key, envelope_ids, at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET envelope_ids = excluded.envelope_ids, at = excluded.at',
  );
  const selectTombstone = db.prepare<[string]>('SELECT envelope_ids FROM tombstones WHERE key = ?').pluck();
  const pruneStatement = db.prepare<[number]>('DELETE FROM tombstones WHERE at < ?');
  const insertDeadLetter = db.prepare<[number, string, string, Buffer, number, DeadLetterHolds]>(
    'INSERT INTO dead_letter_batches (created_at, destination, reason, payloads, span_count, holds) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const selectDeadLetters = db.prepare('SELECT id, created_at, destination, reason, payloads, span_count, holds FROM dead_letter_batches ORDER BY id');
  const countDeadLetters = db.prepare('SELECT COUNT(*) FROM dead_letter_batches').pluck();
  const deleteDeadLetter = db.prepare<[number]>('DELETE FROM dead_letter_batches WHERE id = ?');

  // Most keys asked about were never exported: the filter answers those without a query. It is
  // filled by `warmUp` (after the bridge listens): until then every key is looked up.
  const exportedKeys = createKeyFilter(options.tombstoneRetentionMillis ?? 86_400_000);
  let filterReady = false;

  // The queue's sizes are summed by `warmUp`: over a large backlog that reads every row.
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

  // In-memory totals change only once a transaction committed (a SQLITE_FULL rolls back).
  const commit = db.transaction((c: QueueCommit, atMillis: number) => {
    for (const item of c.items) insertQueue.run(item.queue, item.payload);
    // An entity is queued once (assembly forgets it then), so a tombstone is written whole; after
    // a kill -9 replay the same key may come again with the same ids, and replacing is right.
    for (const t of c.tombstones) upsertTombstone.run(t.key, JSON.stringify(t.envelopeIds), atMillis);
    for (const d of c.deadLetters ?? []) insertDeadLetter.run(atMillis, d.destination, d.reason, packPayloads(d.payloads), d.spanCount, d.holds);
  });

  const dequeue = db.transaction((ids: readonly number[], deadLetter?: { destination: string; reason: string; atMillis: number }) => {
    const payloads: Uint8Array[] = [];
    const removed: Array<{ destination: string; bytes: number }> = [];
    for (const id of ids) {
      const row = (deadLetter ? deleteQueueKeeping : deleteQueue).get(id) as { destination: string; bytes: number; payload?: Buffer } | undefined;
      if (!row) continue;
      removed.push(row);
      if (row.payload) payloads.push(row.payload);
    }
    if (deadLetter && payloads.length > 0) {
      insertDeadLetter.run(deadLetter.atMillis, deadLetter.destination, deadLetter.reason, packPayloads(payloads), payloads.length, 'payloads');
    }
    return removed;
  });

  const queue: ExportQueue = {
    commit(c, atMillis) {
      commit(c, atMillis);
      for (const t of c.tombstones) exportedKeys.add(t.key, atMillis);
      for (const item of c.items) {
        const q = queueCount(item.queue);
        q.items++;
        q.bytes += item.payload.byteLength;
        queueBytes += item.payload.byteLength;
      }
    },
    peek(name, afterId, limit) {
      return (peekQueue.all(name, afterId, limit) as Array<{ id: number; destination: string; payload: Buffer }>).map(
        (row): QueuedItem => ({ id: row.id, queue: row.destination, payload: row.payload }),
      );
    },
    dequeue(ids, deadLetter) {
      for (const row of dequeue(ids, deadLetter)) {
        const q = queueCount(row.destination);
        q.items--;
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

  const exported: ExportedEntities = {
    exportedEnvelopeIds(key) {
      if (filterReady && !exportedKeys.mightContain(key)) return undefined;
      const text = selectTombstone.get(key) as string | undefined;
      return text ? new Set(JSON.parse(text) as string[]) : undefined;
    },
    prune(beforeMillis) {
      exportedKeys.prune(beforeMillis);
      return pruneStatement.run(beforeMillis).changes;
    },
  };

  async function warmUp(): Promise<void> {
    const totals = db.prepare('SELECT destination, COUNT(*) AS n, COALESCE(SUM(length(payload)), 0) AS b FROM export_queue GROUP BY destination').all() as Array<{
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
  }

  return { queue, exported, warmUp };
}
