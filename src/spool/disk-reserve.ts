// The full-disk policy of the durable store. Owns `<dataDir>/bridge.reserve`, a file of zeros that
// holds space back while the disk has room. When a store write fails for lack of space the reserve
// is deleted, so that what frees space (deleting exported rows, recording tombstones, checkpointing
// the WAL) still has room to run, and new data is refused (ready 503) until there is room again;
// then the reserve is made again and the store accepts data. Must not touch the store's files
// (giving their free pages back is the `reclaim` callback's business).
import { closeSync, existsSync, openSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';

export const RESERVE_FILE_NAME = 'bridge.reserve';

/** Below this much free space the store is not written even without a reserve configured. */
const MIN_ROOM_BYTES = 1024 * 1024;

export interface DiskReserve {
  /** Why new data cannot be stored now (the disk is full), or undefined while it can. */
  unwritableReason(): string | undefined;
  /**
   * Whether the store has room to record an export (tombstones, deleted rows): false means a span
   * exported now could not be marked exported, and would go again after a restart.
   */
  canRecordExports(): boolean;
  /** A store write failed for lack of space: releases the reserve (once) and refuses new data. */
  diskFull(): void;
  /** Looks at free space: ends the full state and makes the reserve again once there is room. */
  check(): void;
  isHeld(): boolean;
  /** Starts the periodic check, which runs only while the disk is full or the reserve missing. */
  start(): void;
  /** Stops the periodic check (the reserve file stays for the next start). */
  shutdown(): void;
}

export interface DiskReserveOptions {
  dataDir: string;
  /** 0: no reserve file; the full state still works on free space alone. */
  reserveBytes: number;
  logger: Logger;
  /** Bytes free to this process on the data directory's file system (default: statfs). */
  freeBytes?: () => number;
  /** Bytes the store can reuse without growing (its free pages), counted as room. */
  reusableBytes?: () => number;
  /** Gives the store's free space back to the file system (run while full, before measuring). */
  reclaim?: () => void;
  /** How often `check` runs while the disk is full or the reserve missing; 0: only when called. */
  checkEveryMillis?: number;
  /** Called on each change of `unwritableReason` (metrics, logs). */
  onChange?: (full: boolean) => void;
}

/** True for the errors a write gets when the file system has no room left. */
export function isDiskFullError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC';
}

export function createDiskReserve(options: DiskReserveOptions): DiskReserve {
  const { dataDir, reserveBytes, logger } = options;
  const file = path.join(dataDir, RESERVE_FILE_NAME);
  const freeBytes = options.freeBytes ?? (() => statfsFreeBytes(dataDir));
  const reusableBytes = options.reusableBytes ?? (() => 0);
  const roomBytes = Math.max(reserveBytes, MIN_ROOM_BYTES);
  // What an export's bookkeeping may need at most between two checks: a fraction of the room.
  const settleHeadroomBytes = Math.max(roomBytes / 4, 256 * 1024);
  let held = reserveBytes > 0 && sizeOf(file) >= reserveBytes;
  let full = false;
  let timer: NodeJS.Timeout | undefined;
  // No timer before `start`: the factory only measures (the state is right from the first call).
  let started = false;
  let stopped = false;

  const setFull = (value: boolean) => {
    if (full === value) return;
    full = value;
    options.onChange?.(full);
  };

  function makeReserve(): boolean {
    if (reserveBytes === 0 || held) return held;
    // Twice the reserve: making it must leave the store as much room as it holds back.
    if (safe(freeBytes) < 2 * reserveBytes) return false;
    try {
      writeZeros(file, reserveBytes);
      held = true;
      logger.info({ file, bytes: reserveBytes }, 'disk reserve in place');
    } catch (error) {
      rmSync(file, { force: true });
      logger.warn({ err: error, file }, 'could not make the disk reserve');
    }
    return held;
  }

  function schedule(): void {
    const every = options.checkEveryMillis ?? 1000;
    if (!started || stopped || every <= 0 || timer) return;
    timer = setInterval(() => {
      reserve.check();
      if (!full && (held || reserveBytes === 0) && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    }, every);
    timer.unref();
  }

  const reserve: DiskReserve = {
    unwritableReason: () => (full ? 'the disk holding the store is full: new batches are refused until space frees' : undefined),
    canRecordExports: () => held || safe(freeBytes) >= settleHeadroomBytes,
    diskFull() {
      if (held) {
        rmSync(file, { force: true });
        held = false;
        logger.error({ file, bytes: reserveBytes }, 'DISK FULL: released the disk reserve so exported rows can still be deleted; new batches are refused');
      } else if (!full) {
        logger.error({ dataDir }, 'DISK FULL: the store cannot write; new batches are refused until space frees');
      }
      setFull(true);
      schedule();
    },
    check() {
      if (full || !held) {
        try {
          options.reclaim?.();
        } catch (error) {
          logger.debug({ err: error }, 'could not reclaim store space yet');
        }
      }
      const room = safe(freeBytes) + safe(reusableBytes) >= roomBytes;
      if (full && room) {
        setFull(false);
        logger.warn({ dataDir }, 'disk space is back: the store accepts new batches again');
      }
      // No reserve and no room for one (a start on a disk that filled up before): the store is
      // full now, not only once a write fails; ready says so from the start.
      if (!full && !room && !makeReserve() && reserveBytes > 0) {
        logger.error({ dataDir }, 'DISK FULL: no room for the disk reserve; new batches are refused until space frees');
        setFull(true);
        schedule();
        return;
      }
      makeReserve();
    },
    isHeld: () => held,
    start() {
      started = true;
      if (full || (!held && reserveBytes > 0)) schedule();
    },
    shutdown() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };

  // At start: the reserve from the last run, or a new one; without room for either, start full.
  makeReserve();
  if (!held && safe(freeBytes) + safe(reusableBytes) < roomBytes) {
    full = true;
    logger.error({ dataDir, freeBytes: safe(freeBytes) }, 'DISK FULL at start: new batches are refused until space frees');
  }
  return reserve;
}

function statfsFreeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return Number(stats.bavail) * Number(stats.bsize);
}

/** A probe that fails (file system gone, database closed) counts as no room. */
function safe(read: () => number): number {
  try {
    const value = read();
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}

function sizeOf(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}

/** Writes real zeros (not a sparse file), so the space is taken now. */
function writeZeros(file: string, bytes: number): void {
  const chunk = Buffer.alloc(Math.min(bytes, 1024 * 1024));
  const fd = openSync(file, 'w');
  try {
    for (let written = 0; written < bytes; ) {
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
}
