// The request log on SQLite (request-log.ts): one row per accepted request (per-event keyed
// writes cannot meet the throughput goal, DESIGN §6), and the quarantine of rows that cannot be
// read back. Shares the database file opened by sqlite-store.ts; owns the `log` and `quarantine`
// tables only. A row's events are the UTF-8 JSON array (a BLOB; rows written before offsets were
// kept hold TEXT) and, in `ends`, where each event ends in it, so that a read-back parses only
// the events it asks for (rows without `ends` are parsed whole).
import type Database from 'better-sqlite3';
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { checkEvent, eventsAt, packEnds, readStoredEvent, storeEvents, unpackEnds, type LogEntry, type RequestLog, type UnreadableEntry } from './request-log.js';

export const REQUEST_LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    events TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    ends BLOB
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
  /** A Buffer as written now; a string in rows written before `ends` was. */
  events: string | Buffer;
  bytes: number;
}

/**
 * Rows kept after a read-back, for the next ones: the ~100 roots of one entry complete in one
 * collection and each reads its own event, and a SELECT of a 220 KB row costs ~60 µs (bench
 * events, better-sqlite3) where the parse of one event's slice costs ~2 µs. Raw bytes, bounded;
 * the newest row is kept whatever its size.
 */
const READ_CACHE_BYTES = 1024 * 1024;

/** A row read back: its bytes and offsets, or (a row without offsets) its events parsed whole. */
type ReadRow = { text: Buffer; ends: Uint32Array; bytes: number } | { events: IngestionEvent[]; bytes: number };

export function createSqliteRequestLog(db: Database.Database, now: () => number): RequestLog {
  db.exec(REQUEST_LOG_SCHEMA);
  // A data directory from before the offsets: its rows keep NULL and are read whole.
  const columns = db.prepare('SELECT name FROM pragma_table_info(\'log\')').pluck().all() as string[];
  if (!columns.includes('ends')) db.exec('ALTER TABLE log ADD COLUMN ends BLOB');
  const insertLog = db.prepare<[number, string, Buffer, number, Buffer]>('INSERT INTO log (received_at, source, events, bytes, ends) VALUES (?, ?, ?, ?, ?)');
  const deleteLog = db.prepare<[number]>('DELETE FROM log WHERE seq = ? RETURNING bytes').pluck();
  // One statement for whole entries and single events: `ends` is only read by the latter.
  const selectLog = db.prepare<[number]>('SELECT seq, received_at, source, events, bytes, ends FROM log WHERE seq = ?');
  const quarantineRow = db.prepare<[number, number | null, string | null, string | Buffer | null, string, number]>(
    'INSERT OR REPLACE INTO quarantine (seq, received_at, source, events, reason, at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const countQuarantine = db.prepare('SELECT COUNT(*) FROM quarantine').pluck();

  const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM log').get() as { n: number; b: number };
  let entries = totals.n;
  let bytes = totals.b;
  let quarantined = countQuarantine.get() as number;

  // The in-memory totals change only once a transaction committed: a write refused for lack of
  // space (SQLITE_FULL) rolls back, and the totals must still match the file then. The
  // transactions return what they deleted; their callers settle the totals.
  const releaseOne = (seq: number): number => (deleteLog.get(seq) as number | undefined) ?? -1;
  const settleReleased = (sizes: readonly number[]) => {
    for (const size of sizes) {
      if (size < 0) continue;
      entries--;
      bytes -= size;
    }
  };
  const release = db.transaction((seqs: readonly number[]) => seqs.map(releaseOne));
  const readCache = new Map<number, ReadRow>();
  let readCacheBytes = 0;
  const uncache = (seq: number) => {
    const cached = readCache.get(seq);
    if (!cached) return;
    readCache.delete(seq);
    readCacheBytes -= cached.bytes;
  };
  const quarantine = db.transaction((row: Partial<LogRow> & { seq: number }, reason: string) => {
    quarantineRow.run(row.seq, row.received_at ?? null, row.source ?? null, row.events ?? null, reason, now());
    return [releaseOne(row.seq)];
  });

  function readRow(row: LogRow): LogEntry {
    const source = JSON.parse(row.source) as unknown;
    const events = JSON.parse(typeof row.events === 'string' ? row.events : row.events.toString('utf8')) as unknown;
    if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new Error('the source is not an object');
    if (!Array.isArray(events)) throw new Error('the events are not an array');
    for (const event of events) checkEvent(event);
    return { seq: row.seq, receivedAtMillis: row.received_at, source: source as RequestSource, events: events as IngestionEvent[], bytes: row.bytes };
  }

  /** A row for `readEvents`, through the cache. */
  function readRowEvents(seq: number): ReadRow | undefined {
    const cached = readCache.get(seq);
    if (cached) return cached;
    const row = selectLog.get(seq) as (LogRow & { ends: Buffer | null }) | undefined;
    if (!row) return undefined;
    const read: ReadRow =
      row.ends !== null && typeof row.events !== 'string' ? { text: row.events, ends: unpackEnds(row.ends), bytes: row.bytes } : { events: readRow(row).events, bytes: row.bytes };
    readCache.set(seq, read);
    readCacheBytes += read.bytes;
    for (const old of readCache.keys()) {
      if (readCacheBytes <= READ_CACHE_BYTES || old === seq) break;
      uncache(old);
    }
    return read;
  }

  function* replay(): IterableIterator<LogEntry | UnreadableEntry> {
    // Streamed one row at a time, in seq order, by keyset pages: a statement iterating while the
    // quarantine writes would hold the read open; pages of 256 rows keep memory flat.
    let after = 0;
    const page = db.prepare<[number]>('SELECT seq, received_at, source, events, bytes FROM log WHERE seq > ? ORDER BY seq LIMIT 256');
    for (;;) {
      const rows = page.all(after) as LogRow[];
      if (rows.length === 0) return;
      for (const row of rows) {
        after = row.seq;
        let entry: LogEntry;
        try {
          entry = readRow(row);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          uncache(row.seq);
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
      const { text, ends } = storeEvents(entry.events);
      const size = text.length;
      const info = insertLog.run(entry.receivedAtMillis, JSON.stringify(entry.source), text, size, packEnds(ends));
      entries++;
      bytes += size;
      return { ...entry, seq: Number(info.lastInsertRowid), bytes: size };
    },
    replay,
    readEntries(seqs) {
      const out: LogEntry[] = [];
      for (const seq of seqs) {
        const row = selectLog.get(seq) as LogRow | undefined;
        if (row) out.push(readRow(row));
      }
      return out;
    },
    readEvents(seq, indices) {
      const row = readRowEvents(seq);
      if (!row) return [];
      if ('events' in row) return eventsAt(row, indices);
      return indices.map((index) => readStoredEvent(row.text, row.ends, index));
    },
    release(seqs) {
      for (const seq of seqs) uncache(seq);
      settleReleased(release(seqs));
    },
    pendingEntries: () => entries,
    pendingBytes: () => bytes,
    quarantinedEntries: () => quarantined,
  };
}
