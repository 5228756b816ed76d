// The durable Store (store.ts) on SQLite (better-sqlite3, WAL): opens `<dataDir>/bridge.sqlite`
// once and builds the request log and the export queue on it. They share the file, not their
// transactions: the queue's commit is atomic on its own, and the log's release that follows is
// a separate, idempotent step (a crash between them replays entries that the tombstones mark as
// duplicates). Knows nothing of assembly or OTel.
import { statfsSync } from 'node:fs';
import path from 'node:path';
import { openStoreDatabase, type OpenStoreOptions } from './open-database.js';
import { createSqliteExportStore } from './sqlite-export-queue.js';
import { createSqliteRequestLog } from './sqlite-request-log.js';
import type { Store } from './store.js';

export interface SqliteStoreOptions extends OpenStoreOptions {
  /** How long tombstones are kept (sizes the key filter's epochs). */
  tombstoneRetentionMillis?: number;
  now?: () => number;
}

/** SQLite's default: a checkpoint once the WAL holds this many pages. */
const DEFAULT_WAL_PAGES = 1000;
/**
 * The WAL kept between checkpoints at most (3072 pages of 4 KiB). A checkpoint on a full disk may
 * have to grow the database file by as much as the WAL holds, in the room the disk reserve gives
 * back (BRIDGE_STORE_RESERVE_BYTES, 16 MiB by default): the WAL stays below it.
 */
const MAX_WAL_BYTES = 12 * 1024 * 1024;
/** The largest share of the free space at start the WAL may take. */
const WAL_SHARE_OF_FREE = 1 / 8;

/**
 * WAL pages between automatic checkpoints. A checkpoint copies every page the WAL holds into the
 * database file (and syncs both): the log's and the queue's pages are freed and reused within
 * seconds, so a longer WAL copies each reused page once instead of once per 1000 pages written.
 * Measured with `npm run bench:store` (200,000 events, compact tombstones, alternating runs):
 * 4.19/4.16 s of CPU at 1000 pages, 3.94/3.82 s at 3072 (load 5–6.6); 4.06/3.96 s at 1000 and
 * 3.34/3.32 s at 10,000 (load 2–4.5), which a full disk's reserve could not cover.
 * Durability is unchanged (synchronous=NORMAL syncs at checkpoints either way; a commit is in the
 * WAL before it returns). Never more than an eighth of the free space at start, nor less than the
 * default: a small disk keeps SQLite's own setting.
 */
export function walCheckpointPages(freeBytes: number, pageSizeBytes: number): number {
  const bytes = Math.min(MAX_WAL_BYTES, Math.floor(freeBytes * WAL_SHARE_OF_FREE));
  return Math.max(DEFAULT_WAL_PAGES, Math.floor(bytes / pageSizeBytes));
}

/** Free space on the data directory's file system; none known counts as none (the default WAL). */
function freeBytesOf(dir: string): number {
  try {
    const stats = statfsSync(dir);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return 0;
  }
}

/**
 * Opens (or creates) `<dataDir>/bridge.sqlite`, checked (open-database.ts). Throws StoreDamagedError
 * when the file is damaged or cannot be written (or sets a damaged file aside, if asked to).
 */
export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Store {
  const db = openStoreDatabase(path.join(dataDir, 'bridge.sqlite'), options);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives the process being killed (kill -9); only a power cut or
  // OS crash can lose the last commits. FULL would fsync every request.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const walPages = walCheckpointPages(freeBytesOf(dataDir), db.pragma('page_size', { simple: true }) as number);
  db.pragma(`wal_autocheckpoint = ${walPages}`);
  // The WAL file keeps its largest size after a checkpoint; past this it is cut back to it.
  db.pragma(`journal_size_limit = ${walPages * (db.pragma('page_size', { simple: true }) as number)}`);
  const log = createSqliteRequestLog(db, options.now ?? Date.now);
  const exportStore = createSqliteExportStore(db, options.tombstoneRetentionMillis !== undefined ? { tombstoneRetentionMillis: options.tombstoneRetentionMillis } : {});
  return {
    log,
    queue: exportStore.queue,
    exported: exportStore.exported,
    warmUp: exportStore.warmUp,
    close() {
      if (db.open) db.close();
    },
  };
}
