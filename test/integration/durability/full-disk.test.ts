// Issue 8 (5): the disk holding the store fills up. On a 20 MiB tmpfs (needs root; skipped with a
// message otherwise) a bridge spools LiteLLM traffic while the backend is down until the disk is
// full: ingestion answers 503 and never a false 207, ready turns 503. It is killed (-9) and started
// again on the full disk; the backend comes back; it is restarted once more (SIGTERM) while
// exporting. Every acknowledged event is exported, no span twice, and ready, the reserve and
// ingestion come back by themselves once the export freed the space.
// Issue 16 (4): three starts on a disk with less than twice the configured reserve free (the
// default 16 MiB on 20 MiB), where no reserve used to be made and, once full, nothing was ever sent
// again: the start makes a reserve sized to the room; the disk fills with the backend down; after a
// kill -9 another file takes all but 128 KiB and the bridge starts on that full disk; the backend
// returns and what is queued is delivered although the store cannot record it; the file goes, the
// rest follows by itself; a SIGTERM restart finds ready, the reserve and ingestion back. Every
// acknowledged span arrives; duplicates (a send recorded only in memory, then a crash) are counted
// and printed, not forbidden.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startBridge, stopAllBridges, stopBridge, type RunningBridge } from '../../helpers/bridge-process.js';
import {
  checkExport,
  Ledger,
  postIngestion,
  startTrackedCollector,
  summarise,
  waitUntil,
  type TrackedCollector,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const TMPFS_BYTES = 20 * 1024 * 1024;
// Above the WAL (up to 4 MiB between checkpoints): a checkpoint on the full disk grows the store by that much.
const RESERVE_BYTES = 6 * 1024 * 1024;
/** What is left free for the restart on a full disk: below the 1 MiB the store needs to take batches. */
const LEFT_FREE_BYTES = 128 * 1024;

let mountPoint: string | undefined;
let collector: TrackedCollector | undefined;

afterEach(async () => {
  await stopAllBridges();
  await collector?.close();
  collector = undefined;
  if (mountPoint) {
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
    mountPoint = undefined;
  }
});

/** A fresh 20 MiB tmpfs, or the reason there is none. */
function mountSmallDisk(): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'full-disk test skipped: mounting a tmpfs needs root' };
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-full-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `full-disk test skipped: could not mount a tmpfs (${String(error).slice(0, 200)})` };
  }
  return dir;
}

/** A fresh small disk and a collector answering 503 until `backend.up`; skips the test (with a message) without root. */
async function smallDiskAndBackend(ctx: { skip: () => void }): Promise<{ dataDir: string; mount: string; backend: { up: boolean }; tracked: TrackedCollector } | undefined> {
  const mounted = mountSmallDisk();
  if (typeof mounted !== 'string') {
    console.warn(mounted.skip);
    ctx.skip();
    return undefined;
  }
  mountPoint = mounted;
  const backend = { up: false };
  const tracked = await startTrackedCollector({ kind: 'ok' });
  collector = tracked;
  tracked.onRequest(() => (backend.up ? { kind: 'ok' } : { kind: 'status', status: 503, headers: { 'Retry-After': '1' } }));
  return { dataDir: path.join(mounted, 'data'), mount: mounted, backend, tracked };
}

/** Posts batches of 30 events (at most `batches`) until the first 503: every earlier answer must be a 207. */
async function fillUntilRefused(bridge: RunningBridge, ledger: Ledger, runId: string, batches: number) {
  const answers = new Map<number, number>();
  let sent = 0;
  for (const batch of litellmBatches(runId, 30 * batches, 30)) {
    const attempt = await postIngestion(bridge.url, batch);
    sent++;
    ledger.record(batch, attempt);
    const status = attempt.kind === 'answer' ? attempt.status : -1;
    answers.set(status, (answers.get(status) ?? 0) + 1);
    if (status === 503) return { sent, answers, full: true };
    expect(status, JSON.stringify(attempt).slice(0, 300)).toBe(207);
  }
  return { sent, answers, full: false };
}

async function ready(bridge: RunningBridge): Promise<number> {
  return (await fetch(`${bridge.url}/api/public/ready`)).status;
}

it('fills a 20 MiB disk with the backend down, restarts on it, recovers by itself; no span exported twice', async (ctx) => {
  const disk = await smallDiskAndBackend(ctx);
  if (!disk) return;
  const { dataDir, mount, backend, tracked } = disk;
  const started = Date.now();
  const env = { BRIDGE_STORE_RESERVE_BYTES: String(RESERVE_BYTES), OTEL_EXPORTER_OTLP_TIMEOUT: '500', BRIDGE_EXPORT_BATCH_SIZE: '256' };
  let bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });
  expect(existsSync(path.join(dataDir, 'bridge.reserve'))).toBe(true);

  // 1. Backend down: spool until the disk is full.
  const ledger = new Ledger();
  const { sent, answers, full } = await fillUntilRefused(bridge, ledger, `full-disk-${started}`, 400);
  expect(full, 'the disk never filled').toBe(true);
  // The first refusal is the write that failed; from then on requests are refused before the body is read.
  const second = await postIngestion(bridge.url, litellmBatches(`full-disk-after-${started}`, 3, 3)[0]!);
  expect(second.kind === 'answer' && second.status).toBe(503);
  expect(second.kind === 'answer' && JSON.stringify(second.body)).toMatch(/disk/);
  expect(await ready(bridge)).toBe(503);
  expect(existsSync(path.join(dataDir, 'bridge.reserve'))).toBe(false);
  const acknowledged = ledger.acknowledgedEvents();
  expect(acknowledged).toBeGreaterThan(0);

  // 2. kill -9 and a start on the full disk: it starts and replays; ready says whether the store
  // can take batches. How much room the start finds depends on how many log rows the killed
  // process had already released into the store's free pages (reusable space), so ready is held
  // to the store's own writable state rather than to one fixed answer.
  await bridge.kill9();
  bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });
  const restartMetrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const writable = /^bridge_store_writable (\d)$/m.exec(restartMetrics)?.[1];
  expect(writable === '1' || writable === '0').toBe(true);
  expect(await ready(bridge)).toBe(writable === '1' ? 200 : 503);

  // 3. Backend back: exports free the space; a SIGTERM restart while they run.
  backend.up = true;
  await waitUntil(() => tracked.exported().size > 0, 20_000, 50);
  expect((await stopBridge(bridge)).code).toBe(0);
  bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });

  const drained = await waitUntil(() => checkExport(ledger, tracked).missing.length === 0, 60_000, 100);
  const recovered = await waitUntil(async () => (await ready(bridge)) === 200, 30_000, 200);
  const after = await postIngestion(bridge.url, litellmBatches(`full-disk-recovered-${started}`, 3, 3)[0]!);
  const reserveBack = await waitUntil(() => existsSync(path.join(dataDir, 'bridge.reserve')), 10_000, 100);
  const check = checkExport(ledger, tracked);
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();

  summarise('full disk', {
    batchesSent: sent,
    answers: Object.fromEntries(answers),
    acknowledgedEvents: acknowledged,
    expectedSpans: check.expected,
    exportedSpans: check.exported,
    missing: check.missing.length,
    duplicated: check.duplicated.length,
    recovered,
    reserveBack,
    durationMs: Date.now() - started,
  });
  expect(drained, `missing: ${check.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(check.missing).toEqual([]);
  expect(check.duplicated).toEqual([]);
  expect(recovered).toBe(true);
  expect(after.kind === 'answer' && after.status).toBe(207);
  expect(reserveBack).toBe(true);
  expect(metrics).toMatch(/^bridge_store_writable 1$/m);
  expect((await stopBridge(bridge)).code).toBe(0);
}, 180_000);

/** Free bytes on the file system holding `dir`. */
function freeBytesOf(dir: string): number {
  const stats = statfsSync(dir);
  return Number(stats.bavail) * Number(stats.bsize);
}

/** Writes `file` until only `leaveBytes` are free on its file system; returns its size. */
function fillDisk(file: string, dir: string, leaveBytes: number): number {
  const chunk = Buffer.alloc(64 * 1024);
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (;;) {
      const room = freeBytesOf(dir) - leaveBytes;
      if (room <= 0) break;
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, room));
    }
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Waits until `read` has not changed for `quietMillis`. */
async function settled(read: () => number, quietMillis: number): Promise<void> {
  let last = read();
  let since = Date.now();
  while (Date.now() - since < quietMillis) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** Copies beyond the first of the spans the collector received more than once. */
function extraCopies(check: ReturnType<typeof checkExport>): number {
  return check.duplicated.reduce((sum, d) => sum + d.times - 1, 0);
}

it('three starts on a disk with less than twice the reserve free: fills it, restarts on it full, delivers every acknowledged span', async (ctx) => {
  const disk = await smallDiskAndBackend(ctx);
  if (!disk) return;
  const { dataDir, mount, backend, tracked } = disk;
  const started = Date.now();
  // The default reserve (16 MiB): less than twice the 20 MiB disk's room.
  const env = { OTEL_EXPORTER_OTLP_TIMEOUT: '500', BRIDGE_EXPORT_BATCH_SIZE: '256' };

  // Start 1: on a disk with less than twice the reserve free; a reserve is still made, sized to the room.
  let bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });
  const reservePath = path.join(dataDir, 'bridge.reserve');
  expect(existsSync(reservePath)).toBe(true);
  const reserveBytes = statSync(reservePath).size;
  expect(reserveBytes).toBeGreaterThan(0);
  expect(reserveBytes).toBeLessThanOrEqual(TMPFS_BYTES / 2);
  expect(await ready(bridge)).toBe(200);

  // Start 1 goes on: the backend is down, the disk fills.
  const ledger = new Ledger();
  const { sent, answers, full } = await fillUntilRefused(bridge, ledger, `small-disk-${started}`, 600);
  expect(full, 'the disk never filled').toBe(true);
  expect(await ready(bridge)).toBe(503);
  const acknowledged = ledger.acknowledgedEvents();
  expect(acknowledged).toBeGreaterThan(0);

  // Start 2: kill -9; something else takes what room the released reserve left, all but
  // LEFT_FREE_BYTES; a start on that full disk, the backend still down.
  await bridge.kill9();
  const filler = path.join(mount, 'filler');
  const fillerBytes = fillDisk(filler, mount, LEFT_FREE_BYTES);
  const freeAtRestart = freeBytesOf(mount);
  bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });
  const readyOnFullDisk = await ready(bridge);
  // The backend returns: what is queued is delivered on the full disk, recorded or not.
  const exportedBefore = tracked.exported().size;
  backend.up = true;
  const deliveredOnFullDisk = await waitUntil(() => tracked.exported().size > exportedBefore, 30_000, 100);
  await settled(() => tracked.exported().size, 3_000);
  const onFullDisk = checkExport(ledger, tracked);
  // The other file goes: space frees, and the rest (log entries that had no room to be queued) follows by itself.
  rmSync(filler);
  const drained = await waitUntil(() => checkExport(ledger, tracked).missing.length === 0, 90_000, 100);
  const afterDrain = checkExport(ledger, tracked);

  // Start 3: a SIGTERM restart once everything arrived; the store records what it could not before.
  expect((await stopBridge(bridge)).code).toBe(0);
  bridge = await startBridge({ dataDir, collectorUrl: tracked.url, env });
  const recovered = await waitUntil(async () => (await ready(bridge)) === 200, 60_000, 200);
  const after = await postIngestion(bridge.url, litellmBatches(`small-disk-recovered-${started}`, 3, 3)[0]!);
  const reserveBack = await waitUntil(() => existsSync(reservePath), 10_000, 100);
  await waitUntil(() => checkExport(ledger, tracked).missing.length === 0, 10_000, 100);
  const check = checkExport(ledger, tracked);

  summarise('small disk (3 starts)', {
    reserveBytes,
    fillerBytes,
    freeAtRestart,
    readyOnFullDisk,
    deliveredOnFullDisk: onFullDisk.exported - exportedBefore,
    missingOnFullDisk: onFullDisk.missing.length,
    batchesSent: sent,
    answers: Object.fromEntries(answers),
    acknowledgedEvents: acknowledged,
    expectedSpans: check.expected,
    exportedSpans: check.exported,
    missing: check.missing.length,
    duplicatedSpans: check.duplicated.length,
    extraCopies: extraCopies(check),
    duplicatesSameContent: check.duplicated.every((d) => d.sameContent),
    duplicatedBeforeRestart3: afterDrain.duplicated.length,
    recovered,
    reserveBack,
    durationMs: Date.now() - started,
  });
  expect(deliveredOnFullDisk).toBe(true);
  expect(drained, `missing: ${afterDrain.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(check.missing).toEqual([]);
  expect(recovered).toBe(true);
  expect(after.kind === 'answer' && after.status).toBe(207);
  expect(reserveBack).toBe(true);
  expect((await stopBridge(bridge)).code).toBe(0);
}, 240_000);
