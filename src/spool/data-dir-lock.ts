// One process per data directory. Owns `<dataDir>/bridge.lock` (the lock) and `<dataDir>/bridge.pid`
// (who holds it, for the refusal message). Must not touch the store itself (bridge.sqlite).
//
// The lock is an OS lock: SQLite's own POSIX advisory lock (fcntl) on a tiny database file, held by
// an open EXCLUSIVE transaction for the life of the process. The kernel drops it when the process
// dies in any way (kill -9 included), so a stale lock can never block a restart; the pid file is
// only a hint for the message and is ignored when it is stale. better-sqlite3 is already the store's
// library, so no native add-on is added for this.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export const LOCK_FILE_NAME = 'bridge.lock';
export const PID_FILE_NAME = 'bridge.pid';

// The open connections that hold the locks. Kept reachable here: a connection the garbage collector
// finalises closes, and closing it would drop the lock while the process still runs.
const held = new Set<Database.Database>();

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    /** The holder's PID from the pid file, when it could be read. */
    readonly holderPid: number | undefined,
  ) {
    super(
      `the data directory ${dataDir} is in use by another bridge process (PID ${holderPid ?? 'unknown'}); ` +
        'stop that process, or give this one its own BRIDGE_DATA_DIR',
    );
  }
}

/** The lock could not be taken for another reason than a holder: the directory cannot be written. */
export class DataDirUnusableError extends Error {
  override readonly name = 'DataDirUnusableError';
  constructor(
    readonly dataDir: string,
    readonly reason: string,
  ) {
    super(
      `the data directory ${dataDir} cannot be used (${reason}). Options: give the bridge's user write access to it, ` +
        'mount the volume read-write, free disk space, or point BRIDGE_DATA_DIR at another directory',
    );
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Releases the lock (the process exit does the same). */
  release(): void;
}

/** Takes the exclusive lock on `dataDir` (created if missing) or throws DataDirLockedError at once. */
export function acquireDataDirLock(dataDir: string, pid: number = process.pid): DataDirLock {
  const lockPath = path.join(dataDir, LOCK_FILE_NAME);
  const pidPath = path.join(dataDir, PID_FILE_NAME);
  let db: Database.Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    db = new Database(lockPath, { timeout: 0 });
  } catch (error) {
    throw new DataDirUnusableError(dataDir, describe(error));
  }
  try {
    // EXCLUSIVE locking mode: once taken, the lock is kept after the transaction ends; a rollback
    // journal (not WAL), so the lock is the file lock itself and no -shm shared memory is involved.
    db.pragma('journal_mode = DELETE');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirLockedError(dataDir, readPid(pidPath));
    throw new DataDirUnusableError(dataDir, describe(error));
  }
  held.add(db);
  try {
    writeFileSync(pidPath, `${pid}\n`);
  } catch (error) {
    held.delete(db);
    db.close();
    throw new DataDirUnusableError(dataDir, describe(error));
  }
  return {
    dataDir,
    release() {
      held.delete(db);
      if (!db.open) return;
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readPid(pidPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidPath, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
