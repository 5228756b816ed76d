// Issue 8 (5): the disk holding the store fills up. On a 20 MiB tmpfs (needs root; skipped with a
// message otherwise) a bridge spools LiteLLM traffic while the backend is down until the disk is
// full: ingestion answers 503 and never a false 207, ready turns 503. It is killed (-9) and started
// again on the full disk; the backend comes back; it is restarted once more (SIGTERM) while
// exporting. Every acknowledged event is exported, no span twice, and ready, the reserve and
// ingestion come back by themselves once the export freed the space.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

async function ready(bridge: RunningBridge): Promise<number> {
  return (await fetch(`${bridge.url}/api/public/ready`)).status;
}

it('fills a 20 MiB disk with the backend down, restarts on it, recovers by itself; no span exported twice', async (ctx) => {
  const mounted = mountSmallDisk();
  if (typeof mounted !== 'string') {
    console.warn(mounted.skip);
    ctx.skip();
    return;
  }
  mountPoint = mounted;
  const dataDir = path.join(mountPoint, 'data');
  const started = Date.now();
  let backendUp = false;
  collector = await startTrackedCollector({ kind: 'ok' });
  collector.onRequest(() => (backendUp ? { kind: 'ok' } : { kind: 'status', status: 503, headers: { 'Retry-After': '1' } }));
  const env = { BRIDGE_STORE_RESERVE_BYTES: String(RESERVE_BYTES), OTEL_EXPORTER_OTLP_TIMEOUT: '500', BRIDGE_EXPORT_BATCH_SIZE: '256' };
  let bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });
  expect(existsSync(path.join(dataDir, 'bridge.reserve'))).toBe(true);

  // 1. Backend down: spool until the disk is full.
  const ledger = new Ledger();
  const answers = new Map<number, number>();
  let full: { status: number; body: unknown } | undefined;
  let sent = 0;
  for (const batch of litellmBatches(`full-disk-${started}`, 30 * 400, 30)) {
    const attempt = await postIngestion(bridge.url, batch);
    sent++;
    ledger.record(batch, attempt);
    const status = attempt.kind === 'answer' ? attempt.status : -1;
    answers.set(status, (answers.get(status) ?? 0) + 1);
    if (status === 503) {
      full = { status, body: attempt.kind === 'answer' ? attempt.body : undefined };
      break;
    }
    expect(status, JSON.stringify(attempt).slice(0, 300)).toBe(207);
  }
  expect(full, 'the disk never filled').toBeDefined();
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
  bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });
  const restartMetrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const writable = /^bridge_store_writable (\d)$/m.exec(restartMetrics)?.[1];
  expect(writable === '1' || writable === '0').toBe(true);
  expect(await ready(bridge)).toBe(writable === '1' ? 200 : 503);

  // 3. Backend back: exports free the space; a SIGTERM restart while they run.
  backendUp = true;
  await waitUntil(() => collector!.exported().size > 0, 20_000, 50);
  expect((await stopBridge(bridge)).code).toBe(0);
  bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });

  const drained = await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 60_000, 100);
  const recovered = await waitUntil(async () => (await ready(bridge)) === 200, 30_000, 200);
  const after = await postIngestion(bridge.url, litellmBatches(`full-disk-recovered-${started}`, 3, 3)[0]!);
  const reserveBack = await waitUntil(() => existsSync(path.join(dataDir, 'bridge.reserve')), 10_000, 100);
  const check = checkExport(ledger, collector);
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
