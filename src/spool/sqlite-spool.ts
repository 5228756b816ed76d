// The durable Spool on SQLite (better-sqlite3, WAL). One row per accepted request on the hot path
// (DESIGN §6: per-event keyed writes cannot meet the throughput goal); tombstones and dead letters
// are written by the export worker, off the request path. Knows nothing of assembly or OTel.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { createKeyFilter } from './key-filter.js';
import { openStoreDatabase, type OpenStoreOptions } from './open-database.js';
import type { DeadLetter, Spool, SpoolEntry, Tombstone } from './spool.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    events TEXT NOT NULL,
    bytes INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS tombstones (
    key TEXT PRIMARY KEY,
    envelope_ids TEXT NOT NULL,
    at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS tombstones_at ON tombstones (at);
  CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    span_count INTEGER NOT NULL
  );
`;

interface LogRow {
  seq: number;
  received_at: number;
  source: string;
  events: string;
  bytes: number;
}

/** Opens (or creates) `<dataDir>/bridge.sqlite`. Throws when the directory cannot be used. */
export function openSqliteSpool(dataDir: string, options: OpenStoreOptions = {}): Spool {
  mkdirSync(dataDir, { recursive: true });
  const db = openStoreDatabase(path.join(dataDir, 'bridge.sqlite'), options);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives the process being killed (kill -9); only a power cut or
  // OS crash can lose the last commits. FULL would fsync every request.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);

  const insertLog = db.prepare<[number, string, string, number]>('INSERT INTO log (received_at, source, events, bytes) VALUES (?, ?, ?, ?)');
  const deleteLog = db.prepare<[number]>('DELETE FROM log WHERE seq = ? RETURNING bytes').pluck();
  const upsertTombstone = db.prepare<[string, string, number]>(
    'INSERT INTO tombstones (key, envelope_ids, at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET envelope_ids = excluded.envelope_ids, at = excluded.at',
  );
  const selectTombstone = db.prepare<[string]>('SELECT envelope_ids FROM tombstones WHERE key = ?').pluck();
  const pruneStatement = db.prepare<[number]>('DELETE FROM tombstones WHERE at < ?');
  const insertDeadLetter = db.prepare<[number, string, string, number]>(
    'INSERT INTO dead_letters (created_at, reason, payload, span_count) VALUES (?, ?, ?, ?)',
  );
  const selectDeadLetters = db.prepare('SELECT id, created_at AS createdAtMillis, reason, payload, span_count AS spanCount FROM dead_letters ORDER BY id');
  const deleteDeadLetter = db.prepare<[number]>('DELETE FROM dead_letters WHERE id = ?');

  // Most keys asked about were never exported: the filter answers those without a query.
  const exportedKeys = createKeyFilter();
  for (const key of db.prepare('SELECT key FROM tombstones').pluck().iterate() as IterableIterator<string>) exportedKeys.add(key);

  const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM log').get() as { n: number; b: number };
  let entries = totals.n;
  let bytes = totals.b;

  // The totals change only once the transaction committed: a commit refused (disk full) rolls back.
  const deleteRows = db.transaction((seqs: readonly number[]) => {
    let freed = 0;
    let count = 0;
    for (const seq of seqs) {
      const size = deleteLog.get(seq) as number | undefined;
      if (size === undefined) continue;
      count++;
      freed += size;
    }
    return { count, freed };
  });
  const release = (seqs: readonly number[]) => {
    const { count, freed } = deleteRows(seqs);
    entries -= count;
    bytes -= freed;
  };
  // An entity is exported once (the assembler forgets it then), so a tombstone is written whole;
  // after a kill -9 replay the same key may come again with the same ids, and replacing is right.
  const addTombstones = db.transaction((items: readonly Tombstone[], atMillis: number) => {
    for (const item of items) {
      upsertTombstone.run(item.key, JSON.stringify(item.envelopeIds), atMillis);
      exportedKeys.add(item.key);
    }
  });
  const takeDeadLetters = db.transaction((ids?: readonly number[]) => {
    const all = selectDeadLetters.all() as DeadLetter[];
    const chosen = ids ? all.filter((d) => ids.includes(d.id)) : all;
    for (const d of chosen) deleteDeadLetter.run(d.id);
    return chosen;
  });

  return {
    durable: true,
    append(entry) {
      const events = JSON.stringify(entry.events);
      const size = Buffer.byteLength(events);
      const info = insertLog.run(entry.receivedAtMillis, JSON.stringify(entry.source), events, size);
      entries++;
      bytes += size;
      return { ...entry, seq: Number(info.lastInsertRowid), bytes: size };
    },
    replay() {
      const rows = db.prepare('SELECT seq, received_at, source, events, bytes FROM log ORDER BY seq').all() as LogRow[];
      return rows.map(
        (row): SpoolEntry => ({
          seq: row.seq,
          receivedAtMillis: row.received_at,
          source: JSON.parse(row.source) as RequestSource,
          events: JSON.parse(row.events) as IngestionEvent[],
          bytes: row.bytes,
        }),
      );
    },
    release: (seqs) => release(seqs),
    pendingBytes: () => bytes,
    pendingEntries: () => entries,
    addTombstones: (items, atMillis) => addTombstones(items, atMillis),
    getTombstone(key) {
      if (!exportedKeys.mightContain(key)) return undefined;
      const text = selectTombstone.get(key) as string | undefined;
      return text ? new Set(JSON.parse(text) as string[]) : undefined;
    },
    pruneTombstones: (beforeMillis) => pruneStatement.run(beforeMillis).changes,
    addDeadLetter(reason, payload, spanCount, atMillis) {
      insertDeadLetter.run(atMillis, reason, payload, spanCount);
    },
    listDeadLetters: () => selectDeadLetters.all() as DeadLetter[],
    takeDeadLetters: (ids) => takeDeadLetters(ids),
    close() {
      if (db.open) db.close();
    },
  };
}
