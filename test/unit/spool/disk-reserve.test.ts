// The full-disk policy with the free space injected: the reserve is made when there is room,
// released on the first disk-full write, new data refused until there is room again, exports
// held back only when neither the reserve nor free space could record them.
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

function setup(initialFree: number, reusable = 0) {
  const disk = { free: initialFree, reusable, reclaimed: 0 };
  const changes: boolean[] = [];
  const reserve = createDiskReserve({
    dataDir: dir,
    reserveBytes: 2 * MiB,
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
  // The reserve's room (as the file system reports it) is what exports may use now.
  disk.free = 2 * MiB;
  expect(reserve.canRecordExports()).toBe(true);
  disk.free = 0;
  expect(reserve.canRecordExports()).toBe(false);

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

it('starts full on a disk without room for the store, and keeps no export it could not record', () => {
  const { reserve, disk, file } = setup(100 * 1024);
  expect(reserve.isHeld()).toBe(false);
  expect(existsSync(file)).toBe(false);
  expect(reserve.unwritableReason()).toBeDefined();
  expect(reserve.canRecordExports()).toBe(false);
  disk.free = 8 * MiB;
  reserve.check();
  expect(reserve.unwritableReason()).toBeUndefined();
  expect(reserve.isHeld()).toBe(true);
  reserve.shutdown();
});

it('knows the disk-full errors of SQLite and of the file system', () => {
  expect(isDiskFullError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))).toBe(true);
  expect(isDiskFullError(Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toBe(true);
  expect(isDiskFullError(Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' }))).toBe(false);
  expect(isDiskFullError(null)).toBe(false);
});
