// The data-directory lock within one process: a second acquire is refused with the directory and
// the holder's PID; a release lets the next one in; an unusable directory gets its own error.
// (Two real processes and kill -9: test/integration/durability/data-dir-lock.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError, DataDirUnusableError, type DataDirLock } from '../../../src/spool/data-dir-lock.js';

let dir: string;
const locks: DataDirLock[] = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bridge-lock-'));
});
afterEach(() => {
  for (const lock of locks.splice(0)) lock.release();
  rmSync(dir, { recursive: true, force: true });
});

it('refuses a second holder, naming the directory and the PID, until the first releases', () => {
  const first = acquireDataDirLock(dir, 4242);
  locks.push(first);
  let refused: unknown;
  try {
    locks.push(acquireDataDirLock(dir, 4343));
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeInstanceOf(DataDirLockedError);
  expect((refused as DataDirLockedError).holderPid).toBe(4242);
  expect((refused as Error).message).toContain(dir);
  expect((refused as Error).message).toContain('PID 4242');
  first.release();
  locks.push(acquireDataDirLock(dir, 4343));
});

it('a data directory that is a file is unusable, with the reason', () => {
  const file = path.join(dir, 'not-a-dir');
  writeFileSync(file, 'x');
  expect(() => acquireDataDirLock(file)).toThrow(DataDirUnusableError);
  expect(() => acquireDataDirLock(file)).toThrow(/not-a-dir cannot be used/);
});
