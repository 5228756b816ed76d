// The durable Store (store.ts) on SQLite (better-sqlite3, WAL): opens `<dataDir>/bridge.sqlite`
// once and builds the request log and the export queue on it. They share the file, not their
// transactions: the queue's commit is atomic on its own, and the log's release that follows is
// a separate, idempotent step (a crash between them replays entries that the tombstones mark as
// duplicates). Knows nothing of assembly or OTel.
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
