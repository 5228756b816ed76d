// The request log on SQLite (request-log.ts): one row per accepted request (per-event keyed
// writes cannot meet the throughput goal, DESIGN §6), and the quarantine of rows that cannot be
// read back. Shares the database file opened by sqlite-store.ts; owns the `log` and `quarantine`
// tables only.
import type Database from 'better-sqlite3';
import type { IngestionEvent } from '../ingestion/ingestion-event.js';
import type { RequestSource } from '../ingestion/request-source.js';
import { storedEventsText, type LogEntry, type RequestLog, type UnreadableEntry } from './request-log.js';

export const REQUEST_LOG_SCHEMA = `
  CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    events TEXT NOT NULL,
    bytes INTEGER NOT NULL
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

export function createSqliteRequestLog(db: Database.Database, now: () => number): RequestLog {
  db.exec(REQUEST_LOG_SCHEMA);
  const insertLog = db.prepare<[number, string, string, number]>('INSERT INTO log (received_at, source, events, bytes) VALUES (?, ?, ?, ?)');
  const deleteLog = db.prepare<[number]>('DELETE FROM log WHERE seq = ? RETURNING bytes').pluck();
  const selectLog = db.prepare<[number]>('SELECT seq, received_at, source, events, bytes FROM log WHERE seq = ?');
  const quarantineRow = db.prepare<[number, number | null, string | null, string | null, string, number]>(
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
  const quarantine = db.transaction((row: Partial<LogRow> & { seq: number }, reason: string) => {
    quarantineRow.run(row.seq, row.received_at ?? null, row.source ?? null, row.events ?? null, reason, now());
    return [releaseOne(row.seq)];
  });

  function readRow(row: LogRow): LogEntry {
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
      const events = storedEventsText(entry.events);
      const size = Buffer.byteLength(events);
      const info = insertLog.run(entry.receivedAtMillis, JSON.stringify(entry.source), events, size);
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
    release: (seqs) => settleReleased(release(seqs)),
    pendingEntries: () => entries,
    pendingBytes: () => bytes,
    quarantinedEntries: () => quarantined,
  };
}
