// The full-disk policy with the free space injected: the reserve is made when there is room,
// released on the first disk-full write, new data refused until there is room again; sized to the
// room there is, so a small or nearly-full disk still gets one.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createDiskReserve, isDiskFullError, RESERVE_FILE_NAME } from '../../../src/spool/disk-reserve.js';
import { createSilentLogger } from '../../helpers/silent-logger.js';

const MiB = 1024 * 1024;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-reserve-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function setup(initialFree: number, reusable = 0, reserveBytes = 2 * MiB) {
  const disk = { free: initialFree, reusable, reclaimed: 0 };
  const changes: boolean[] = [];
  const reserve = createDiskReserve({
    dataDir: dir,
    reserveBytes,
    logger: createSilentLogger(),
    freeBytes: () => disk.free,
    reusableBytes: () => disk.reusable,
    reclaim: () => void disk.reclaimed++,
    checkEveryMillis: 0,
    onChange: (full) => changes.push(full),
  });
  return { reserve, disk, changes, file: path.join(dir, RESERVE_FILE_NAME) };
}

it('makes the reserve at start when there is room, releases it on disk full, and makes it again once space frees', () => {
  const { reserve, disk, changes, file } = setup(100 * MiB);
  expect(reserve.isHeld()).toBe(true);
  expect(statSync(file).size).toBe(2 * MiB);
  expect(reserve.unwritableReason()).toBeUndefined();

  disk.free = 0;
  reserve.diskFull();
  expect(existsSync(file)).toBe(false);
  expect(reserve.unwritableReason()).toMatch(/disk .* full/);
  reserve.check();
  expect(reserve.unwritableReason()).toBeDefined();
  expect(disk.reclaimed).toBe(1);
  // Free pages inside the store count as room for new data, not for the reserve file.
  disk.reusable = 3 * MiB;
  reserve.check();
  expect(reserve.unwritableReason()).toBeUndefined();
  expect(reserve.isHeld()).toBe(false);
  disk.free = 10 * MiB;
  reserve.check();
  expect(reserve.isHeld()).toBe(true);
  expect(changes).toEqual([true, false]);
  reserve.shutdown();
});

it('starts full on a disk without room for the store, and makes the reserve once space frees', () => {
  const { reserve, disk, file } = setup(100 * 1024);
  expect(reserve.isHeld()).toBe(false);
  expect(existsSync(file)).toBe(false);
  expect(reserve.unwritableReason()).toBeDefined();
  disk.free = 8 * MiB;
  reserve.check();
  expect(reserve.unwritableReason()).toBeUndefined();
  expect(reserve.isHeld()).toBe(true);
  reserve.shutdown();
});

it('on a disk with less than twice the configured reserve free, makes one of a quarter of the room', () => {
  // The default 16 MiB reserve on a 20 MiB disk: the old rule (twice the reserve or nothing) made none.
  const { reserve, disk, file } = setup(20 * MiB, 0, 16 * MiB);
  expect(reserve.isHeld()).toBe(true);
  expect(statSync(file).size).toBe(5 * MiB);
  expect(reserve.unwritableReason()).toBeUndefined();
  // Full: released; the room that ends the full state is the reserve's size, not the configured one.
  disk.free = 0;
  reserve.diskFull();
  expect(existsSync(file)).toBe(false);
  disk.free = 5 * MiB;
  reserve.check();
  expect(reserve.unwritableReason()).toBeUndefined();
  // Made again within a quarter of the room there is then.
  expect(statSync(file).size).toBe(1.25 * MiB);
  reserve.shutdown();
});

it('keeps the reserve a previous run sized to its room', () => {
  const first = setup(4 * MiB, 0, 16 * MiB);
  expect(statSync(first.file).size).toBe(1 * MiB);
  first.reserve.shutdown();
  const again = createDiskReserve({ dataDir: dir, reserveBytes: 16 * MiB, logger: createSilentLogger(), freeBytes: () => 3 * MiB, checkEveryMillis: 0 });
  expect(again.isHeld()).toBe(true);
  expect(again.unwritableReason()).toBeUndefined();
  expect(statSync(first.file).size).toBe(1 * MiB);
  again.shutdown();
});

it('knows the disk-full errors of SQLite and of the file system', () => {
  expect(isDiskFullError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe(true);
  expect(isDiskFullError(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toBe(true);
  expect(isDiskFullError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(false);
  expect(isDiskFullError(null)).toBe(false);
});
