// The two levels of the SQLite record of exported entities (src/spool/sqlite-exported-keys.ts):
// tombstones in level 0 (a row per commit, and memory), the merge into `exported_keys` in slices
// with lookups right between them, a reopen with level 0 not yet merged, pruning across both
// levels, a key exported twice, a merge slice that fails, and a store written before level 0.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tombstone } from '../../../src/spool/exported-entities.js';
import { hash53, keyCheck, packIdHashes } from '../../../src/spool/key-hash.js';
import { createMemoryStore } from '../../../src/spool/memory-store.js';
import { createSqliteExportStore, type SqliteExportStore } from '../../../src/spool/sqlite-export-queue.js';

let dataDir: string;
const dbs: Database.Database[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-exported-keys-'));
});

afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Level 0 merged past 4 keys, 2 keys per slice at least (twice a commit's keys when more). */
function open(level0MaxKeys = 4, mergeSliceKeys = 2): { db: Database.Database; store: SqliteExportStore } {
  const db = new Database(path.join(dataDir, 'bridge.sqlite'));
  db.pragma('journal_mode = WAL');
  dbs.push(db);
  return { db, store: createSqliteExportStore(db, { level0MaxKeys, mergeSliceKeys }) };
}

const count = (db: Database.Database, table: string) => db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number;
const tomb = (key: string, ...envelopeIds: string[]): Tombstone => ({ key, envelopeIds });
const commit = (store: SqliteExportStore, tombstones: Tombstone[], at = 1_000) => store.queue.commit({ items: [], tombstones }, at);
const held = (store: SqliteExportStore, key: string, candidates: readonly string[]) => {
  const ids = store.exported.exportedEnvelopeIds(key);
  return ids ? candidates.filter((c) => ids.has(c)) : undefined;
};

describe('sqlite record of exported entities: two levels', () => {
  it('finds a key of level 0: one row per commit, nothing in exported_keys yet', () => {
    const { db, store } = open();
    commit(store, [tomb('obs:a', 'e1', 'e2'), tomb('obs:b')]);
    commit(store, [tomb('trace:c', 'e3')]);
    expect(count(db, 'exported_recent')).toBe(2);
    expect(count(db, 'exported_keys')).toBe(0);
    expect(held(store, 'obs:a', ['e1', 'e2', 'e3'])).toEqual(['e1', 'e2']);
    expect(held(store, 'obs:b', ['e1'])).toEqual([]);
    expect(held(store, 'trace:c', ['e3'])).toEqual(['e3']);
    expect(store.exported.exportedEnvelopeIds('obs:c')).toBeUndefined();
  });

  it('merges level 0 into exported_keys in slices, one per commit, with every key found between slices', async () => {
    const { db, store } = open(4, 2);
    await store.warmUp();
    const committed: Tombstone[] = [];
    const states: Array<[recent: number, keys: number]> = [];
    for (let i = 0; i < 12; i++) {
      const t = tomb(`obs:k${i}`, `ev-${i}`);
      commit(store, [t]);
      committed.push(t);
      states.push([count(db, 'exported_recent'), count(db, 'exported_keys')]);
      // Between any two slices: every key exported so far, with its ids; nothing else.
      for (const c of committed) expect(held(store, c.key, [c.envelopeIds[0]!, 'other'])).toEqual(c.envelopeIds);
      expect(store.exported.exportedEnvelopeIds(`obs:k${i + 1}`)).toBeUndefined();
    }
    // Commit 5 starts a merge of the 5 keys then held (slices of 2: commits 5, 6, 7); its last
    // slice deletes the 5 rows merged; commit 10 starts the next.
    expect(states.slice(0, 8)).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [5, 2],
      [6, 4],
      [2, 5],
      [3, 5],
    ]);
    expect(states[11]).toEqual([2, 10]);
  });

  it('loads level 0 back at open: keys not merged yet, and a merge cut short between slices, stay exported', async () => {
    let { db, store } = open(4, 2);
    for (let i = 0; i < 6; i++) commit(store, [tomb(`obs:k${i}`, `ev-${i}`)]);
    // A merge under way (two slices of five keys written), then the process goes (as kill -9: each slice committed).
    expect([count(db, 'exported_recent'), count(db, 'exported_keys')]).toEqual([6, 4]);
    db.close();
    ({ db, store } = open(4, 2));
    for (const phase of ['before warm-up', 'after'] as const) {
      if (phase === 'after') await store.warmUp();
      for (let i = 0; i < 6; i++) expect(held(store, `obs:k${i}`, [`ev-${i}`, 'other'])).toEqual([`ev-${i}`]);
      expect(store.exported.exportedEnvelopeIds('obs:k6')).toBeUndefined();
    }
    // The six keys are merged again (the same records), and their rows go.
    for (let i = 6; i < 10; i++) commit(store, [tomb(`obs:k${i}`, `ev-${i}`)]);
    expect(count(db, 'exported_keys')).toBeGreaterThanOrEqual(7);
    for (let i = 0; i < 10; i++) expect(held(store, `obs:k${i}`, [`ev-${i}`])).toEqual([`ev-${i}`]);
  });

  it('prunes both levels by time, across a reopen', async () => {
    let { db, store } = open(2, 8);
    commit(store, [tomb('obs:old-1', 'a'), tomb('obs:old-2', 'a'), tomb('obs:old-3', 'a')], 1_000);
    // That commit went over the bound: merged whole. The next two stay in level 0.
    expect(count(db, 'exported_keys')).toBe(3);
    commit(store, [tomb('obs:old-4', 'a')], 1_500);
    commit(store, [tomb('obs:new-1', 'b')], 5_000);
    expect(count(db, 'exported_recent')).toBe(2);
    expect(store.exported.prune(2_000)).toBe(4);
    for (const key of ['obs:old-1', 'obs:old-3', 'obs:old-4']) expect(store.exported.exportedEnvelopeIds(key)).toBeUndefined();
    expect(held(store, 'obs:new-1', ['a', 'b'])).toEqual(['b']);
    db.close();
    ({ db, store } = open(2, 8));
    await store.warmUp();
    expect([count(db, 'exported_recent'), count(db, 'exported_keys')]).toEqual([1, 0]);
    expect(store.exported.exportedEnvelopeIds('obs:old-4')).toBeUndefined();
    expect(held(store, 'obs:new-1', ['b'])).toEqual(['b']);
  });

  it('keeps the later record of a key exported twice: in level 0 over exported_keys, in level 0 itself, merged, and after a reopen', async () => {
    let { db, store } = open(2, 8);
    await store.warmUp();
    commit(store, [tomb('obs:twice', 'first'), tomb('obs:x1'), tomb('obs:x2')]);
    expect(count(db, 'exported_keys')).toBe(3);
    commit(store, [tomb('obs:twice', 'second')]);
    expect(held(store, 'obs:twice', ['first', 'second'])).toEqual(['second']);
    commit(store, [tomb('obs:twice', 'third')]);
    expect(held(store, 'obs:twice', ['first', 'second', 'third'])).toEqual(['third']);
    db.close();
    ({ db, store } = open(2, 8));
    expect(held(store, 'obs:twice', ['first', 'second', 'third'])).toEqual(['third']);
    commit(store, [tomb('obs:y1'), tomb('obs:y2')]);
    expect(count(db, 'exported_recent')).toBe(0);
    expect(held(store, 'obs:twice', ['first', 'second', 'third'])).toEqual(['third']);
  });

  it('leaves everything as it was when a merge slice fails (a full disk), never failing the commit, and merges later', () => {
    const { db, store } = open(2, 8);
    commit(store, [tomb('obs:a', 'ea'), tomb('obs:b', 'eb')]);
    // The slice's writes to exported_keys fail, as they would on a full disk.
    db.exec("CREATE TEMP TRIGGER refuse BEFORE INSERT ON exported_keys BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    commit(store, [tomb('obs:c', 'ec')]);
    expect([count(db, 'exported_recent'), count(db, 'exported_keys')]).toEqual([2, 0]);
    for (const k of ['a', 'b', 'c']) expect(held(store, `obs:${k}`, [`e${k}`])).toEqual([`e${k}`]);
    db.exec('DROP TRIGGER refuse');
    // The merge that failed goes on: its three keys written, its two rows deleted; d stays in level 0.
    commit(store, [tomb('obs:d', 'ed')]);
    expect([count(db, 'exported_recent'), count(db, 'exported_keys')]).toEqual([1, 3]);
    for (const k of ['a', 'b', 'c', 'd']) expect(held(store, `obs:${k}`, [`e${k}`])).toEqual([`e${k}`]);
  });

  it('opens a store written before level 0 (exported_keys only) and keeps its records', async () => {
    const db = new Database(path.join(dataDir, 'bridge.sqlite'));
    db.exec('CREATE TABLE exported_keys (key_hash INTEGER PRIMARY KEY, key_check INTEGER NOT NULL, envelope_hashes BLOB NOT NULL, at INTEGER NOT NULL); CREATE INDEX exported_keys_at ON exported_keys (at)');
    const insert = db.prepare('INSERT INTO exported_keys (key_hash, key_check, envelope_hashes, at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 50; i++) insert.run(hash53(`obs:main-${i}`), keyCheck(`obs:main-${i}`), packIdHashes([`ev-${i}`]), 1_000);
    db.close();
    const { store } = open();
    expect(held(store, 'obs:main-7', ['ev-7', 'ev-8'])).toEqual(['ev-7']);
    await store.warmUp();
    for (let i = 0; i < 10; i++) commit(store, [tomb(`obs:new-${i}`, 'n')], 2_000);
    for (let i = 0; i < 50; i++) expect(held(store, `obs:main-${i}`, [`ev-${i}`])).toEqual([`ev-${i}`]);
    expect(store.exported.exportedEnvelopeIds('obs:main-50')).toBeUndefined();
  });

  it('answers like the memory store for any commits, merges and prunes', () => {
    const id = fc.constantFrom('a', 'b', 'ev-1', '');
    const key = fc.constantFrom('obs:1', 'obs:2', 'trace:1', 'trace@t:1', 'score:1', 'pass:1', 'obs:3', 'obs:4');
    const step = fc.oneof(
      fc.record({ commit: fc.array(fc.record({ key, envelopeIds: fc.uniqueArray(id, { maxLength: 2 }) }), { maxLength: 4 }) }),
      fc.record({ prune: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ reopen: fc.constant(true) }),
    );
    let runs = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const prefix = `run-${++runs}/`;
        let { db, store } = open(3, 2);
        const plain = createMemoryStore();
        steps.forEach((s, at) => {
          if ('commit' in s) {
            const tombstones = s.commit.map((t) => ({ key: prefix + t.key, envelopeIds: t.envelopeIds }));
            store.queue.commit({ items: [], tombstones }, at);
            plain.queue.commit({ items: [], tombstones }, at);
          } else if ('prune' in s) {
            store.exported.prune(s.prune);
            plain.exported.prune(s.prune);
          } else {
            db.close();
            ({ db, store } = open(3, 2));
          }
          for (const k of ['obs:1', 'obs:2', 'obs:3', 'obs:4', 'trace:1', 'trace@t:1', 'score:1', 'pass:1', 'never']) {
            const a = store.exported.exportedEnvelopeIds(prefix + k);
            const b = plain.exported.exportedEnvelopeIds(prefix + k);
            expect(a === undefined).toBe(b === undefined);
            for (const candidate of ['a', 'b', 'ev-1', '', 'other']) expect(a?.has(candidate)).toBe(b?.has(candidate));
          }
        });
        db.close();
      }),
      { numRuns: 150 },
    );
  });
});
