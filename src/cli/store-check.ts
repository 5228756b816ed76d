// `langfuse-otel-bridge store check`: what the store in BRIDGE_DATA_DIR holds and whether it is
// sound, without changing it (read-only; safe while a bridge runs on it). Reports every table's
// row count generically, so tables added later show up too. Returns the exit code; main.ts exits.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export interface StoreReport {
  file: string;
  /** Bytes of the database file plus its WAL. */
  fileBytes: number;
  /** Accepted requests not yet fully queued for export (the `log` table), and their stored bytes. */
  entries?: number;
  entryBytes?: number;
  /** Encoded spans waiting in the export queue, per destination, and their bytes. */
  queuedSpans?: number;
  queuedBytes?: number;
  queuedByDestination?: Record<string, number>;
  /** Dead-letter batches and the spans they hold. */
  deadLetters?: number;
  deadLetterSpans?: number;
  /** Log rows that could not be read back at replay (set aside in the `quarantine` table). */
  quarantinedRows?: number;
  /** Row count of every table. */
  tables: Record<string, number>;
  /** `ok`, or what the integrity check (or opening) found wrong. */
  integrity: string[];
  sound: boolean;
}

/** Reads `<dataDir>/bridge.sqlite`; never throws for a damaged or missing file (it is reported). */
export function checkStore(dataDir: string): StoreReport {
  const file = path.resolve(dataDir, 'bridge.sqlite');
  const report: StoreReport = { file, fileBytes: sizeOf(file) + sizeOf(`${file}-wal`), tables: {}, integrity: [], sound: false };
  if (!existsSync(file)) {
    report.integrity.push('no store file (a bridge creates it at its first start)');
    return report;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    for (const name of names) {
      report.tables[name] = db.prepare(`SELECT COUNT(*) FROM "${name.replaceAll('"', '""')}"`).pluck().get() as number;
    }
    if (names.includes('log')) {
      const totals = db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM log').get() as { n: number; b: number };
      report.entries = totals.n;
      report.entryBytes = totals.b;
    }
    // The queue in batches (one row per destination per commit), or per span in a store from before.
    const queueSums = names.includes('export_batches')
      ? 'SELECT destination, COALESCE(SUM(remaining), 0) AS n, COALESCE(SUM(remaining_bytes), 0) AS b FROM export_batches GROUP BY destination ORDER BY destination'
      : names.includes('export_queue')
        ? 'SELECT destination, COUNT(*) AS n, COALESCE(SUM(length(payload)), 0) AS b FROM export_queue GROUP BY destination ORDER BY destination'
        : undefined;
    if (queueSums) {
      const queue = db.prepare(queueSums).all() as Array<{
        destination: string;
        n: number;
        b: number;
      }>;
      report.queuedByDestination = Object.fromEntries(queue.map((q) => [q.destination, q.n]));
      report.queuedSpans = queue.reduce((sum, q) => sum + q.n, 0);
      report.queuedBytes = queue.reduce((sum, q) => sum + q.b, 0);
    }
    if (names.includes('dead_letter_batches')) {
      report.deadLetters = report.tables['dead_letter_batches'];
      report.deadLetterSpans = db.prepare('SELECT COALESCE(SUM(span_count), 0) FROM dead_letter_batches').pluck().get() as number;
    }
    if (names.includes('quarantine')) report.quarantinedRows = report.tables['quarantine'];
    report.integrity = (db.pragma('integrity_check', { simple: false }) as Array<Record<string, unknown>>).map((row) => String(Object.values(row)[0]));
    report.sound = report.integrity.length === 1 && report.integrity[0] === 'ok';
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    report.integrity.push(`${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`);
  } finally {
    if (db?.open) db.close();
  }
  return report;
}

/** Prints the report (JSON on stdout, a verdict on stderr); 0 when the store is sound, 1 when not. */
export function runStoreCheck(dataDir: string, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const report = checkStore(dataDir);
  out.write(`${JSON.stringify(report, null, 2)}\n`);
  err.write(
    report.sound
      ? `store ${report.file}: sound; ${report.entries ?? 0} entries (${report.entryBytes ?? 0} bytes) pending, ` +
          `${report.queuedSpans ?? 0} spans queued (${report.queuedBytes ?? 0} bytes), ` +
          `${report.deadLetters ?? 0} dead letters (${report.deadLetterSpans ?? 0} spans), ${report.quarantinedRows ?? 0} quarantined log rows\n`
      : `store ${report.file}: NOT sound: ${report.integrity.slice(0, 5).join('; ')}\n`,
  );
  return report.sound ? 0 : 1;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
