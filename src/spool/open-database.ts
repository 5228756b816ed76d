// Opens the store's SQLite file and makes sure it is usable before anything reads it: it can be
// opened, it is a database, `PRAGMA quick_check` finds it sound, and it can be written. A damaged
// file is refused with a message naming the file, the cause and the options, or (opt-in) moved
// aside so the bridge starts fresh. Owns nothing but the file's opening; the schema is the spool's.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type StoreOnCorrupt = 'refuse' | 'quarantine';

/** `corrupt`: not a sound SQLite database. `unusable`: the file or directory cannot be opened or written. */
export type StoreProblem = 'corrupt' | 'unusable';

/** The store cannot be used as it is; `message` says which file, what is wrong and what to do. */
export class StoreDamagedError extends Error {
  override readonly name = 'StoreDamagedError';
  constructor(
    readonly file: string,
    readonly problem: StoreProblem,
    /** What SQLite or the file system said. */
    readonly reason: string,
  ) {
    super(
      problem === 'corrupt'
        ? `the store ${file} is damaged (${reason}). Options: restore it from a backup; or set ` +
            'BRIDGE_STORE_ON_CORRUPT=quarantine to move it aside (as bridge.sqlite.corrupt-<time>) and start with an empty store, ' +
            'losing the events it held that were not exported yet; or point BRIDGE_DATA_DIR at another directory. ' +
            '`langfuse-otel-bridge store check` reports what it holds.'
        : `the store ${file} cannot be opened for writing (${reason}). Options: give the bridge's user read and write access to ` +
            'the file and its directory (and the -wal/-shm files next to it), mount the volume read-write, free disk space, ' +
            'or point BRIDGE_DATA_DIR at another directory.',
    );
  }
}

/** What setting a damaged store aside did: where the damaged file went and why. */
export interface SetAsideReport {
  file: string;
  movedTo: string[];
  cause: string;
}

export interface OpenStoreOptions {
  onCorrupt?: StoreOnCorrupt;
  /** Called after a damaged store was moved aside (for a loud log line and a metric). */
  onSetAside?: (report: SetAsideReport) => void;
  /** Milliseconds since the epoch (names the set-aside file). */
  now?: () => number;
}

const CORRUPT_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_VTAB', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_INDEX']);

/**
 * Opens (or creates) `file` in WAL mode, checked. Throws StoreDamagedError when it cannot be used;
 * with `onCorrupt: 'quarantine'` a corrupt file (never merely an unusable one) is moved aside and a
 * fresh one is opened instead.
 */
export function openStoreDatabase(file: string, options: OpenStoreOptions = {}): Database.Database {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (error) {
    throw new StoreDamagedError(file, 'unusable', describe(error));
  }
  const first = tryOpen(file);
  if (first.ok) return first.db;
  if (first.problem === 'unusable' || (options.onCorrupt ?? 'refuse') === 'refuse') {
    throw new StoreDamagedError(file, first.problem, first.cause);
  }
  const movedTo = setAside(file, new Date((options.now ?? Date.now)()));
  options.onSetAside?.({ file, movedTo, cause: first.cause });
  const fresh = tryOpen(file);
  if (fresh.ok) return fresh.db;
  throw new StoreDamagedError(file, fresh.problem, fresh.cause);
}

type Opened = { ok: true; db: Database.Database } | { ok: false; problem: StoreProblem; cause: string };

function tryOpen(file: string): Opened {
  let db: Database.Database | undefined;
  try {
    db = new Database(file);
    // Takes effect only on a new, empty store: freed pages can then be given back to the file
    // system (see createSpaceReclaimer), which a full disk needs. Reading the header is also what
    // tells a garbage file from a database.
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    const problems = db.pragma('quick_check', { simple: false }) as Array<Record<string, unknown>>;
    const first = problems.map((row) => String(Object.values(row)[0])).filter((text) => text !== 'ok');
    if (first.length > 0) {
      db.close();
      return { ok: false, problem: 'corrupt', cause: `integrity check failed: ${first.slice(0, 3).join('; ')}` };
    }
    // A read-only file, directory or mount opens, reads and even takes the write lock: only a
    // write tells. This one is rolled back, so nothing reaches the file.
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec('CREATE TABLE bridge_write_probe (x)');
    } finally {
      db.exec('ROLLBACK');
    }
    return { ok: true, db };
  } catch (error) {
    if (db?.open) db.close();
    const code = String((error as { code?: unknown }).code ?? '');
    return { ok: false, problem: CORRUPT_CODES.has(code) ? 'corrupt' : 'unusable', cause: describe(error) };
  }
}

/** Renames the file and its -wal/-shm companions to `<name>.corrupt-<time>[-wal|-shm]`. */
function setAside(file: string, at: Date): string[] {
  const stamp = at.toISOString().replace(/[:.]/g, '-');
  const moved: string[] = [];
  for (const suffix of ['', '-wal', '-shm']) {
    const from = `${file}${suffix}`;
    if (!existsSync(from)) continue;
    const to = `${file}.corrupt-${stamp}${suffix}`;
    try {
      renameSync(from, to);
    } catch (error) {
      throw new StoreDamagedError(file, 'unusable', `could not move it aside to ${to}: ${describe(error)}`);
    }
    moved.push(to);
  }
  return moved;
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/**
 * Gives disk space back from the store: `reusableBytes` is its free pages (room SQLite reuses before
 * the file grows); `reclaim` returns them to the file system (incremental vacuum, then a WAL
 * checkpoint that truncates the WAL). Its own connection, opened on first use; only between the
 * spool's calls (better-sqlite3 is synchronous, so it never meets the spool's open transaction).
 */
export function createSpaceReclaimer(file: string): { reusableBytes(): number; reclaim(): void; close(): void } {
  let db: Database.Database | undefined;
  const open = () => (db ??= new Database(file, { fileMustExist: true, timeout: 1000 }));
  return {
    reusableBytes() {
      const conn = open();
      return (conn.pragma('freelist_count', { simple: true }) as number) * (conn.pragma('page_size', { simple: true }) as number);
    },
    reclaim() {
      const conn = open();
      // Only stores created with auto_vacuum=INCREMENTAL (every store this version creates) shrink.
      conn.pragma('incremental_vacuum');
      conn.pragma('wal_checkpoint(TRUNCATE)');
    },
    close() {
      if (db?.open) db.close();
      db = undefined;
    },
  };
}
