// Opening the store checked: garbage and truncated files are refused with the file, the cause and
// the options; quarantine moves them (and their -wal/-shm) aside and opens a fresh store.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openStoreDatabase, StoreDamagedError, type SetAsideReport } from '../../../src/spool/open-database.js';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-open-'));
  file = path.join(dir, 'bridge.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A real store with enough rows to span many pages, closed cleanly (no WAL left). */
function makeStore(): void {
  const db = openStoreDatabase(file);
  db.exec('CREATE TABLE log (seq INTEGER PRIMARY KEY, events TEXT)');
  const insert = db.prepare('INSERT INTO log (events) VALUES (?)');
  for (let i = 0; i < 200; i++) insert.run('x'.repeat(2000));
  db.close();
}

function refusal(open: () => unknown): StoreDamagedError {
  try {
    open();
  } catch (error) {
    if (error instanceof StoreDamagedError) return error;
    throw error;
  }
  throw new Error('expected a StoreDamagedError');
}

it('opens a new store and a sound existing one', () => {
  makeStore();
  const db = openStoreDatabase(file);
  expect(db.prepare('SELECT COUNT(*) FROM log').pluck().get()).toBe(200);
  expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
  db.close();
});

it('refuses a garbage file: names the file, the cause and the options', () => {
  writeFileSync(file, Buffer.alloc(64 * 1024, 0x5a));
  const error = refusal(() => openStoreDatabase(file));
  expect(error.problem).toBe('corrupt');
  expect(error.message).toContain(file);
  expect(error.message).toMatch(/not a database/);
  expect(error.message).toMatch(/BRIDGE_STORE_ON_CORRUPT=quarantine/);
  expect(error.message).toMatch(/store check/);
});

it('refuses a truncated store', () => {
  makeStore();
  truncateSync(file, Math.floor(readFileSync(file).length / 2));
  const error = refusal(() => openStoreDatabase(file));
  expect(error.problem).toBe('corrupt');
  expect(error.message).toContain(file);
});

it('quarantine moves the damaged file and its companions aside and opens a fresh store', () => {
  writeFileSync(file, 'garbage, not sqlite'.repeat(1000));
  const reports: SetAsideReport[] = [];
  const db = openStoreDatabase(file, { onCorrupt: 'quarantine', onSetAside: (r) => reports.push(r), now: () => Date.parse('2026-12-01T10:00:00.000Z') });
  expect(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get()).toBe(0);
  db.close();
  const aside = `${file}.corrupt-2026-12-01T10-00-00-000Z`;
  expect(reports).toEqual([{ file, movedTo: [aside], cause: expect.stringMatching(/not a database/) as unknown }]);
  expect(readFileSync(aside, 'utf8')).toMatch(/^garbage/);
  expect(readdirSync(dir)).toContain(path.basename(aside));
});

it('a store that cannot be opened is unusable, never quarantined', () => {
  // A directory where the file should be: SQLite cannot open it as a database file.
  writeFileSync(path.join(dir, 'placeholder'), '');
  const error = refusal(() => openStoreDatabase(dir, { onCorrupt: 'quarantine' }));
  expect(error.problem).toBe('unusable');
  expect(error.message).toContain(dir);
  expect(error.message).toMatch(/cannot be opened for writing/);
  expect(existsSync(path.join(dir, 'placeholder'))).toBe(true);
});
