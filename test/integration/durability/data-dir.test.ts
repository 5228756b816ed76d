// Issue 8 (3, 4): one process per data directory, and a damaged store, on the real process.
// A second bridge on the same directory exits 1 naming the directory and the holder's PID; a lock
// left by kill -9 does not block the restart. Truncated, garbage and read-only store files stop the
// bridge with a message naming the file; quarantine moves a damaged one aside and starts fresh;
// `store check` reports the tables, entries and integrity, exit 1 when unsound.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { runBridgeCommand, spawnBridge, startBridge, stopAllBridges, stopBridge } from '../../helpers/bridge-process.js';
import { postIngestion } from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

// Nothing listens there: exports fail and the spooled rows stay in the store, which is what we want.
const COLLECTOR = 'http://127.0.0.1:9/v1/traces';
const dirs: string[] = [];
const unmounts: string[] = [];

afterEach(async () => {
  await stopAllBridges();
  for (const target of unmounts.splice(0)) execFileSync('umount', [target]);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function makeDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-data-dir-'));
  dirs.push(dir);
  return dir;
}

/** A store holding a few spooled requests, written by a real bridge that then stopped. */
async function spooledStore(): Promise<string> {
  const dataDir = makeDataDir();
  const bridge = await startBridge({ dataDir, collectorUrl: COLLECTOR });
  for (const batch of litellmBatches(`spooled-${Date.now()}`, 60, 20)) {
    const attempt = await postIngestion(bridge.url, batch);
    expect(attempt.kind === 'answer' && attempt.status).toBe(207);
  }
  expect((await stopBridge(bridge)).code).toBe(0);
  return dataDir;
}

async function refusedStart(dataDir: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const bridge = spawnBridge({ dataDir, collectorUrl: COLLECTOR, env });
  const exit = await bridge.exited;
  return { code: exit.code, stderr: bridge.stderr() };
}

it('a second bridge on the same data directory exits 1 naming the directory and the holder; kill -9 leaves no stale lock', async () => {
  const dataDir = makeDataDir();
  const first = await startBridge({ dataDir, collectorUrl: COLLECTOR });
  const second = await refusedStart(dataDir);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(dataDir);
  expect(second.stderr).toContain(`PID ${first.pid}`);
  expect(second.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
  expect(first.isRunning()).toBe(true);

  await first.kill9();
  const restarted = await startBridge({ dataDir, collectorUrl: COLLECTOR });
  expect((await fetch(`${restarted.url}/api/public/ready`)).status).toBe(200);
  expect((await stopBridge(restarted)).code).toBe(0);
}, 60_000);

it('store check reports the tables, the entries and a sound store', async () => {
  const dataDir = await spooledStore();
  const result = await runBridgeCommand({ dataDir, collectorUrl: COLLECTOR }, ['store', 'check']);
  expect(result.code, result.stderr).toBe(0);
  const report = JSON.parse(result.stdout) as {
    entries: number;
    queuedSpans: number;
    queuedBytes: number;
    queuedByDestination: Record<string, number>;
    deadLetters: number;
    quarantinedRows: number;
    tables: Record<string, number>;
    integrity: string[];
    sound: boolean;
  };
  expect(report.sound).toBe(true);
  expect(report.integrity).toEqual(['ok']);
  // The backend is down: at the SIGTERM the complete traces moved from the log to the export queue.
  expect(report.queuedSpans).toBeGreaterThan(0);
  expect(report.queuedBytes).toBeGreaterThan(1000);
  expect(report.queuedByDestination).toEqual({ otlp: report.queuedSpans });
  expect(report.deadLetters).toBe(0);
  expect(report.quarantinedRows).toBe(0);
  expect(report.tables).toMatchObject({ log: report.entries, export_queue: report.queuedSpans, dead_letter_batches: 0, quarantine: 0 });
  expect(result.stderr).toMatch(new RegExp(`sound; ${report.entries} entries .* ${report.queuedSpans} spans queued .* 0 quarantined log rows`));
}, 60_000);

it('a truncated store stops the bridge with the file, the cause and the options; store check says unsound', async () => {
  const dataDir = await spooledStore();
  const file = path.join(dataDir, 'bridge.sqlite');
  truncateSync(file, Math.floor(statSync(file).size / 2));
  const start = await refusedStart(dataDir);
  expect(start.code).toBe(1);
  expect(start.stderr).toContain(file);
  expect(start.stderr).toMatch(/damaged \((SQLITE_CORRUPT|integrity check failed)/);
  expect(start.stderr).toMatch(/BRIDGE_STORE_ON_CORRUPT=quarantine/);
  expect(start.stderr).not.toMatch(/\n\s+at /);
  const check = await runBridgeCommand({ dataDir, collectorUrl: COLLECTOR }, ['store', 'check']);
  expect(check.code).toBe(1);
  expect(check.stderr).toMatch(/NOT sound/);
}, 60_000);

it('a garbage store is refused, and with BRIDGE_STORE_ON_CORRUPT=quarantine moved aside, counted, and replaced by an empty one', async () => {
  const dataDir = makeDataDir();
  const file = path.join(dataDir, 'bridge.sqlite');
  writeFileSync(file, Buffer.from('this is not a database; '.repeat(4000)));
  const start = await refusedStart(dataDir);
  expect(start.code).toBe(1);
  expect(start.stderr).toContain(file);
  expect(start.stderr).toMatch(/file is not a database/);

  const bridge = await startBridge({ dataDir, collectorUrl: COLLECTOR, env: { BRIDGE_STORE_ON_CORRUPT: 'quarantine' } });
  const log = await bridge.waitForLog((l) => /DAMAGED STORE SET ASIDE/.test(l.msg));
  expect(log.level).toBe(50);
  const aside = readdirSync(dataDir).filter((name) => /^bridge\.sqlite\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z$/.test(name));
  expect(aside).toHaveLength(1);
  expect(log['movedTo']).toEqual([path.join(dataDir, aside[0]!)]);
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
  expect(metrics).toMatch(/^bridge_damaged_stores_set_aside_total 1$/m);
  const attempt = await postIngestion(bridge.url, litellmBatches(`after-quarantine-${Date.now()}`, 2, 2)[0]!);
  expect(attempt.kind === 'answer' && attempt.status).toBe(207);
  expect((await stopBridge(bridge)).code).toBe(0);
}, 60_000);

it('a read-only store file stops the bridge with the file and the way out', async () => {
  const dataDir = await spooledStore();
  const file = path.join(dataDir, 'bridge.sqlite');
  if (process.getuid?.() === 0) {
    // root ignores file modes: a read-only bind mount of the file itself does what chmod cannot.
    execFileSync('mount', ['--bind', file, file]);
    unmounts.push(file);
    execFileSync('mount', ['-o', 'remount,bind,ro', file]);
  } else {
    chmodSync(file, 0o444);
  }
  const start = await refusedStart(dataDir);
  expect(start.code).toBe(1);
  expect(start.stderr).toContain(file);
  expect(start.stderr).toMatch(/cannot be opened for writing \(SQLITE_(READONLY|CANTOPEN)/);
  expect(start.stderr).toMatch(/read and write access/);
  expect(existsSync(file)).toBe(true);
}, 60_000);
