// The write guard over stores whose writes fail with SQLite's disk-full error: ingestion writes fail
// and release the reserve; bookkeeping writes are retried once after it; nothing else is touched.
// (The real store on a real full disk: test/integration/durability/full-disk.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { DiskReserve } from '../../../src/spool/disk-reserve.js';
import { guardStoreWrites } from '../../../src/spool/full-disk-guard.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-guard-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fullError(): Error {
  return Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
}

/** A reserve that records what the guard told it. */
function recordingReserve() {
  let fulls = 0;
  const reserve: DiskReserve = {
    unwritableReason: () => (fulls > 0 ? 'full' : undefined),
    canRecordExports: () => true,
    diskFull: () => void fulls++,
    check: () => undefined,
    isHeld: () => fulls === 0,
    start: () => undefined,
    shutdown: () => undefined,
  };
  return { reserve, fulls: () => fulls };
}

it('an ingestion write that hits a full disk fails (answered 503) and releases the reserve', () => {
  const { reserve, fulls } = recordingReserve();
  let calls = 0;
  const store = guardStoreWrites(
    {
      append: () => {
        calls++;
        throw fullError();
      },
    },
    reserve,
  );
  expect(() => store.append()).toThrow(/disk is full/);
  expect(calls).toBe(1);
  expect(fulls()).toBe(1);
});

it('a bookkeeping write (delete, tombstones, a method added later) is retried once in the room the reserve left', async () => {
  const { reserve, fulls } = recordingReserve();
  let room = false;
  let deletes = 0;
  const store = guardStoreWrites(
    {
      release(seqs: number[]) {
        if (!room) {
          room = true; // the reserve's release frees space
          throw fullError();
        }
        deletes += seqs.length;
      },
      async enqueueExport() {
        throw fullError();
      },
      pendingBytes: () => 7,
    },
    reserve,
  );
  store.release([1, 2]);
  expect(deletes).toBe(2);
  expect(fulls()).toBe(1);
  // Still full after the retry: the error reaches the caller (the export turn backs off).
  await expect(store.enqueueExport()).rejects.toThrow(/disk is full/);
  expect(fulls()).toBe(2);
  expect(store.pendingBytes()).toBe(7);
});

it('other errors pass through untouched', () => {
  const { reserve, fulls } = recordingReserve();
  const store = guardStoreWrites({ release: () => { throw new Error('constraint'); } }, reserve);
  expect(() => store.release()).toThrow('constraint');
  expect(fulls()).toBe(0);
});
