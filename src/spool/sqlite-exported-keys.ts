// The record of exported entities on SQLite (exported-entities.ts), in two levels, written inside
// the export queue's commit (sqlite-export-queue.ts, which owns the transaction). Owns the
// `exported_recent` (level 0), `exported_keys` (level 1) and, in a store from before compact keys,
// `tombstones` tables, and the key filter over them.
//
// Why two levels: level 1 is a rowid table keyed by the key's 53-bit hash (key-hash.ts). Clients'
// ids are random, so when each commit wrote its tombstones there, each one dirtied its own 4 KiB
// page of the table (and of its `at` index), written to the WAL by that commit and again at the
// checkpoint. Now a commit appends its tombstones as ONE row of `exported_recent` (sequential
// rowids: one page per commit) and keeps them in memory (`level0`, a Map by key hash: lookups look
// there first). Once level 0 holds more than LEVEL0_MAX_KEYS, it is merged into level 1 in key
// order, so that a page of the table is written once per merge instead of once per key.
// Measured with `npm run bench:store` (200,000 events, commits of 64 spans with a tombstone each,
// one core, runs of the code before and after alternating under the bench lock): 7.2–8.4 s of CPU
// before (commit 4.9–6.1 s), 4.2–4.8 s after (commit 2.3–2.7 s); 2.5–3.0 s with `--keys none` (no
// tombstones): ~27 µs of CPU per entity before, ~10 after. With 2 million records already held
// (`--prefill-keys 2000000`, ~24,000 pages, where a merge finds about one key per page): 10.7 →
// 6.5 s.
//
// The merge runs in key-range slices of MERGE_SLICE_KEYS (each its own transaction), one slice
// after a commit (the store has no timer; the pipeline's commits are already sliced), so no call
// holds the event loop for long. A key stays in memory until the slice that wrote it to level 1
// committed, so lookups are right between slices. The level-0 rows of a merge are deleted by its
// last slice: a crash before then loads them again at open and merges them again (the same rows,
// idempotent). A slice that fails (disk full) changes nothing and is tried again after a later
// commit; it never fails the commit, which has committed already. While slices keep failing, level
// 0 grows past its bound with every commit that still succeeds (in memory as on disk).
//
// Level 1 as before: a second 32-bit hash as the key's check and the envelope ids as 8-byte hashes,
// not the key and ids as text. A wrong match needs both hashes to agree (85 bits); two keys with the
// same 53-bit hash keep only the later record (the other's late update is then exported again: a
// duplicate, never a loss), a chance of about n² / 2^54 for n records held (10 million: 0.5%).
import type Database from 'better-sqlite3';
import type { ExportedEntities, Tombstone } from './exported-entities.js';
import { createKeyFilter } from './key-filter.js';
import { hash53, keyCheck, packedHasId, packIdHashes } from './key-hash.js';

export const EXPORTED_KEYS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS exported_keys (
    key_hash INTEGER PRIMARY KEY,
    key_check INTEGER NOT NULL,
    envelope_hashes BLOB NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS exported_keys_at ON exported_keys (at);
  CREATE TABLE IF NOT EXISTS exported_recent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    entries BLOB NOT NULL
  );
`;
// AUTOINCREMENT: a merge deletes the rows up to the last one it saw; a rowid reused after the
// newest rows were pruned would take a newer, unmerged row with them.

/**
 * Keys held in level 0 before a merge starts. A key held costs ~93 bytes (its Map entry, a number
 * for its key and one for its place, and its 24-28 B in its row's blob; measured with 16,384 and
 * 32,768 keys under --expose-gc, against ~160 B with an object per key): 1.5 MiB at this bound,
 * about a quarter more while a merge runs (commits go on: 64 keys each against 256 a slice).
 * Why 16,384, not 32,768: `npm run bench -- --skip collector --skip latency --skip ceiling`, runs
 * alternating with main under the bench lock: burst peak RSS at 32,768 192.0 / 203.5 MB against
 * main's 181.5 / 188.0, at 16,384 191.4 / 189.5 against 190.8 / 189.5. Merge CPU per 200,000 keys
 * (bench:store, with objects per key): 0.84–1.04 s at 16,384, 0.80–0.90 s at 32,768; the whole run
 * 4.3–4.9 s and 4.2–4.6 s.
 */
export const LEVEL0_MAX_KEYS = 16_384;
/**
 * Keys written per merge slice (one transaction), at least: measured per slice (bench:store, 32,768
 * keys in level 0) p50 1.0 ms and p90 1.3 ms at 256, 1.8–2.1 / 2.3–3.0 ms at 512, 3.2–3.6 ms at
 * 1,024, 14 ms at 4,096, the merge's total CPU the same. The slowest (19–24 ms) are the slices
 * that cross the WAL's checkpoint threshold, as any commit that crosses it.
 */
export const MERGE_SLICE_KEYS = 256;

/**
 * A key in level 0 is a number: its row's slot (in `level0Rows`) times 2^32 plus the offset of its
 * entry in that row's blob (where its check, id count and id hashes are). No object per key: the
 * Map of objects cost ~131 B of heap per key, kept for seconds (V8's old generation), and (at
 * 32,768 keys) put the burst's peak RSS 18-27 MB above main's. Slots are reused, so they stay
 * below 2^21 (53 bits).
 */
const SLOT_UNIT = 2 ** 32;
/** Per tombstone in a level-0 row: hash53 (8 bytes), check (4), id count (4), the ids' hashes (8 each). */
const ENTRY_HEAD = 16;

function packLevel0(tombstones: readonly Tombstone[], keyHashes: readonly number[]): Buffer {
  let size = 0;
  for (const t of tombstones) size += ENTRY_HEAD + 8 * t.envelopeIds.length;
  // Not from Buffer's shared pool: a level-0 row is kept for seconds, and a pooled slice would keep
  // its whole 8 KiB pool chunk alive with it.
  const blob = Buffer.allocUnsafeSlow(size);
  let pos = 0;
  tombstones.forEach((t, i) => {
    blob.writeDoubleBE(keyHashes[i]!, pos);
    blob.writeUInt32BE(keyCheck(t.key), pos + 8);
    blob.writeUInt32BE(t.envelopeIds.length, pos + 12);
    pos += ENTRY_HEAD;
    for (const id of t.envelopeIds) {
      blob.writeDoubleBE(hash53(id), pos);
      pos += 8;
    }
  });
  return blob;
}

export interface SqliteExportedKeys {
  exported: ExportedEntities;
  /** Inside the queue's commit transaction: the commit's tombstones as one level-0 row. */
  write(tombstones: readonly Tombstone[], atMillis: number): Level0Write | undefined;
  /** After that transaction committed: its tombstones into memory, then one merge slice if one is due. */
  committed(written: Level0Write | undefined): void;
  /** Loads the key filter from level 1 (after the bridge listens). */
  warmUp(): Promise<void>;
}

export interface Level0Write {
  rowId: number;
  atMillis: number;
  keys: number;
  blob: Buffer;
}

export function createSqliteExportedKeys(
  db: Database.Database,
  options: { tombstoneRetentionMillis?: number; level0MaxKeys?: number; mergeSliceKeys?: number } = {},
): SqliteExportedKeys {
  const level0MaxKeys = options.level0MaxKeys ?? LEVEL0_MAX_KEYS;
  const mergeSliceKeys = options.mergeSliceKeys ?? MERGE_SLICE_KEYS;
  db.exec(EXPORTED_KEYS_SCHEMA);
  const upsert = db.prepare<[number, number, Uint8Array, number]>('INSERT OR REPLACE INTO exported_keys (key_hash, key_check, envelope_hashes, at) VALUES (?, ?, ?, ?)');
  const select = db.prepare<[number]>('SELECT key_check, envelope_hashes FROM exported_keys WHERE key_hash = ?').raw();
  const pruneLevel1 = db.prepare<[number]>('DELETE FROM exported_keys WHERE at < ?');
  const insertRecent = db.prepare<[number, Buffer]>('INSERT INTO exported_recent (at, entries) VALUES (?, ?)');
  const deleteRecentUpTo = db.prepare<[number]>('DELETE FROM exported_recent WHERE id <= ?');
  const pruneRecent = db.prepare<[number]>('DELETE FROM exported_recent WHERE at < ?');

  // A store from before compact keys: its text tombstones are hashed over, in pages, at open.
  if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tombstones'").get() !== undefined) {
    const page = db.prepare<[string]>('SELECT key, envelope_ids, at FROM tombstones WHERE key > ? ORDER BY key LIMIT 1024').raw();
    db.transaction(() => {
      for (let after = ''; ; ) {
        const rows = page.all(after) as Array<[string, string, number]>;
        if (rows.length === 0) break;
        for (const [key, ids, at] of rows) upsert.run(hash53(key), keyCheck(key), packIdHashes(JSON.parse(ids) as string[]), at);
        after = rows[rows.length - 1]![0];
      }
      db.exec('DROP TABLE tombstones');
    })();
  }

  // Most keys asked about were never exported: the filter answers those without a query. It is
  // filled from level 1 by `warmUp` (after the bridge listens): until then every key is looked
  // up. Every key of level 0 is in it from its commit (or from the open), so a key merged while
  // `warmUp` pages through level 1 is never missed.
  const filter = createKeyFilter(options.tombstoneRetentionMillis ?? 86_400_000);
  let filterReady = false;

  // Level 0: key hash -> slot * SLOT_UNIT + entry offset (see SLOT_UNIT). A row's blob is dropped
  // once none of its keys is held any more (replaced by a later export, merged or pruned).
  const level0 = new Map<number, number>();
  const level0Rows: Array<{ blob: Buffer; at: number; live: number } | undefined> = [];
  const freeSlots: number[] = [];
  let lastRowId = 0;
  function release(ref: number): void {
    const slot = Math.floor(ref / SLOT_UNIT);
    const row = level0Rows[slot]!;
    if (--row.live === 0) {
      level0Rows[slot] = undefined;
      freeSlots.push(slot);
    }
  }
  function rowOf(ref: number): { blob: Buffer; at: number; live: number } {
    return level0Rows[Math.floor(ref / SLOT_UNIT)]!;
  }
  function addRow(rowId: number, at: number, blob: Buffer): void {
    const slot = freeSlots.pop() ?? level0Rows.length;
    const row = { blob, at, live: 0 };
    level0Rows[slot] = row;
    for (let pos = 0; pos + ENTRY_HEAD <= blob.length; ) {
      const h = blob.readDoubleBE(pos);
      const count = blob.readUInt32BE(pos + 12);
      // A key exported again replaces its earlier record (rows are added in commit order).
      const earlier = level0.get(h);
      row.live++;
      level0.set(h, slot * SLOT_UNIT + pos);
      if (earlier !== undefined) release(earlier);
      filter.add(h, at);
      pos += ENTRY_HEAD + 8 * count;
    }
    if (row.live === 0) {
      level0Rows[slot] = undefined;
      freeSlots.push(slot);
    }
    lastRowId = Math.max(lastRowId, rowId);
  }
  /** The 8-byte envelope id hashes of the level-0 entry `ref` (a view of its row's blob). */
  function entryIds(ref: number): Buffer {
    const { blob } = rowOf(ref);
    const pos = ref % SLOT_UNIT;
    return blob.subarray(pos + ENTRY_HEAD, pos + ENTRY_HEAD + 8 * blob.readUInt32BE(pos + 12));
  }
  function entryCheck(ref: number): number {
    return rowOf(ref).blob.readUInt32BE((ref % SLOT_UNIT) + 8);
  }
  function forget(h: number, ref: number): void {
    level0.delete(h);
    release(ref);
  }

  // Level 0 is back in memory before any lookup (at most about LEVEL0_MAX_KEYS keys, plus a merge's worth).
  for (const [id, at, entries] of db.prepare('SELECT id, at, entries FROM exported_recent ORDER BY id').raw().iterate() as IterableIterator<[number, number, Buffer]>) {
    addRow(id, at, entries);
  }

  /** A merge under way: the level-0 keys when it started, sorted, and the last level-0 row then. */
  let merging: { hashes: Float64Array; next: number; lastRowId: number } | undefined;

  const mergeSlice = db.transaction((hashes: Float64Array, from: number, to: number, deleteUpTo: number | undefined) => {
    for (let i = from; i < to; i++) {
      const h = hashes[i]!;
      // A key pruned since the merge started is gone; one exported again since is written as it
      // is now (its newer row stays in level 0 and is merged again later: the same record).
      const ref = level0.get(h);
      if (ref !== undefined) upsert.run(h, entryCheck(ref), entryIds(ref), rowOf(ref).at);
    }
    if (deleteUpTo !== undefined) deleteRecentUpTo.run(deleteUpTo);
  });

  /**
   * One slice of a merge, if one is under way or due: at least twice the keys the commit brought,
   * so that a merge always ends however large the commits. Never throws: a failed slice is tried
   * again after a later commit.
   */
  function mergeStep(commitKeys: number): void {
    if (!merging) {
      if (level0.size <= level0MaxKeys) return;
      merging = { hashes: Float64Array.from(level0.keys()).sort(), next: 0, lastRowId };
    }
    const { hashes, next } = merging;
    const to = Math.min(next + Math.max(mergeSliceKeys, 2 * commitKeys), hashes.length);
    const last = to === hashes.length;
    try {
      mergeSlice(hashes, next, to, last ? merging.lastRowId : undefined);
    } catch {
      // Rolled back (a full disk, most likely): level 0 is as it was, and the next commit tries
      // this slice again. Not thrown: the commit before it has committed and must not be reported
      // as failed (its records would be queued twice).
      return;
    }
    for (let i = next; i < to; i++) {
      const h = hashes[i]!;
      const ref = level0.get(h);
      if (ref !== undefined) forget(h, ref);
    }
    merging.next = to;
    if (last) merging = undefined;
  }

  const exported: ExportedEntities = {
    exportedEnvelopeIds(key) {
      const h = hash53(key);
      // Level 0 first (the newer record), then level 1 behind the filter: a check and the id hashes.
      const recent = level0.get(h);
      let found: [check: number, ids: Buffer] | undefined;
      if (recent !== undefined) found = [entryCheck(recent), entryIds(recent)];
      else if (!filterReady || filter.mightContain(h)) found = select.get(h) as [number, Buffer] | undefined;
      if (!found || found[0] !== keyCheck(key)) return undefined;
      const packed = found[1];
      return { has: (id: string) => packedHasId(packed, id) };
    },
    prune(beforeMillis) {
      // Level-0 rows hold a commit's keys, all with the commit's time: a row pruned is keys forgotten below.
      const pruned = db.transaction(() => {
        pruneRecent.run(beforeMillis);
        return pruneLevel1.run(beforeMillis).changes;
      })();
      let forgotten = 0;
      for (const [h, ref] of level0) {
        if (rowOf(ref).at < beforeMillis) {
          forget(h, ref);
          forgotten++;
        }
      }
      filter.prune(beforeMillis);
      return pruned + forgotten;
    },
  };

  return {
    exported,
    write(tombstones, atMillis) {
      if (tombstones.length === 0) return undefined;
      const keyHashes = tombstones.map((t) => hash53(t.key));
      const blob = packLevel0(tombstones, keyHashes);
      const rowId = Number(insertRecent.run(atMillis, blob).lastInsertRowid);
      return { rowId, atMillis, keys: tombstones.length, blob };
    },
    committed(written) {
      if (written) addRow(written.rowId, written.atMillis, written.blob);
      mergeStep(written?.keys ?? 0);
    },
    async warmUp() {
      // Keyset pages by primary key, yielding between them: health is answered meanwhile.
      const page = db.prepare<[number]>('SELECT key_hash, at FROM exported_keys WHERE key_hash > ? ORDER BY key_hash LIMIT 20000').raw();
      let after = -1;
      for (;;) {
        const rows = page.all(after) as Array<[number, number]>;
        for (const [key, at] of rows) filter.add(key, at);
        if (rows.length < 20000) break;
        after = rows[rows.length - 1]![0];
        await new Promise((resolve) => setImmediate(resolve));
      }
      filterReady = true;
    },
  };
}
