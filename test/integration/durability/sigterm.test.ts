// Issue 3 (c): graceful shutdown of the real process. SIGTERM stops new batches (503 with
// Retry-After), lets requests in flight finish, exports what it can within
// BRIDGE_SHUTDOWN_TIMEOUT_MS, keeps the rest on disk and exits 0; a restart on the same data
// directory exports the rest. Also: a backend that comes back during the shutdown gets everything
// before the exit, and a hanging backend cannot hold the exit past the deadline.
import { expect, it } from 'vitest';
import { startBridge, stopBridge, type RunningBridge } from '../../helpers/bridge-process.js';
import {
  checkExport,
  Ledger,
  postIngestion,
  sleep,
  summarise,
  uncoveredChildren,
  waitUntil,
  type IngestAttempt,
  scenarioResources,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches, type Envelope } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-sigterm-');

const DOWN = { kind: 'status', status: 503, headers: { 'Retry-After': '1' } } as const;

/** Sends every batch once, acknowledged ones recorded; returns the ones to send again. */
async function sendAll(url: string, batches: readonly Envelope[][], ledger: Ledger): Promise<Envelope[][]> {
  const again: Envelope[][] = [];
  for (const batch of batches) if (!ledger.record(batch, await postIngestion(url, batch))) again.push(batch);
  return again;
}

it('(c) SIGTERM during an ingest with the backend down: exit 0, nothing missing after a restart', async () => {
  const started = Date.now();
  const collector = await scenario.startCollector(DOWN);
  const dataDir = scenario.makeDataDir();
  const env = { BRIDGE_SHUTDOWN_TIMEOUT_MS: '1500' };
  const bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });

  const ledger = new Ledger();
  const queue = litellmBatches(`sigterm-${started}`, 800, 50);
  const unsent: Envelope[][] = [];
  const answers: IngestAttempt[] = [];
  let acknowledgedBatches = 0;
  let sigtermAtMillis = 0;
  // Two clients sending at once, so that requests are in flight when the signal arrives.
  const client = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      const attempt = await postIngestion(bridge.url, batch);
      if (sigtermAtMillis > 0) answers.push(attempt);
      if (ledger.record(batch, attempt)) acknowledgedBatches++;
      else unsent.push(batch);
      if (acknowledgedBatches === 6 && sigtermAtMillis === 0) {
        sigtermAtMillis = Date.now();
        bridge.signal('SIGTERM');
      }
    }
  };
  await Promise.all([client(), client()]);
  const exit = await bridge.exited;
  const shutdownMillis = Date.now() - sigtermAtMillis;
  const firstRunAcknowledged = ledger.acknowledgedEvents();

  expect(exit).toEqual({ code: 0, signal: null });
  // In flight at the signal: answered in full (207) or refused as a whole (503 + Retry-After, JSON), or the connection was gone.
  for (const answer of answers) {
    if (answer.kind === 'error') continue;
    expect([207, 503]).toContain(answer.status);
    expect(answer.contentType).toMatch(/^application\/json/);
    if (answer.status === 503) expect(Number(answer.retryAfter)).toBeGreaterThan(0);
  }
  expect(bridge.logs.some((log) => log.msg === 'stopped; the rest stays in the store')).toBe(true);
  expect(collector.exported().size).toBe(0);
  // Shutdown timeout 1.5 s (requests) + 1.5 s (export), plus process exit.
  expect(shutdownMillis).toBeLessThan(8_000);

  // The backend is back; the clients send again what was not acknowledged.
  collector.setBehaviour({ kind: 'ok' });
  const restarted = await startBridge({ dataDir, collectorUrl: collector.url, env });
  // What was kept: open work in the log, complete spans in the export queue.
  const ready = await restarted.waitForLog((log) => log.msg === 'ready');
  expect(Number(ready['replayedEntries']) + Number(ready['queuedSpans'])).toBeGreaterThan(0);
  expect(await sendAll(restarted.url, unsent, ledger)).toEqual([]);
  const complete = await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 20_000, 100);
  const check = checkExport(ledger, collector);
  const peakKb = Math.max(bridge.peakRssKb(), restarted.peakRssKb());
  const secondExit = await stopBridge(restarted);

  summarise('(c) SIGTERM', {
    sent: ledger.sent.size,
    acknowledged: ledger.acknowledgedEvents(),
    acknowledgedBeforeExit: firstRunAcknowledged,
    inFlightAnswers: answers.map((a) => (a.kind === 'answer' ? a.status : 'conn-error')).join('/'),
    shutdownMs: shutdownMillis,
    exported: check.exported,
    missing: check.missing.length,
    duplicated: check.duplicated.length,
    peakRssMb: (peakKb / 1024).toFixed(1),
    durationMs: Date.now() - started,
  });
  expect(ledger.refused).toEqual([]);
  expect(ledger.acknowledgedEvents()).toBe(1600);
  expect(complete, `missing: ${check.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(check.duplicated).toEqual([]);
  expect(uncoveredChildren(collector)).toEqual([]);
  expect(secondExit).toEqual({ code: 0, signal: null });
}, 60_000);

it('SIGTERM while the worker backs off: a backend that comes back within the shutdown timeout gets everything before the exit', async () => {
  const collector = await scenario.startCollector(DOWN);
  const dataDir = scenario.makeDataDir();
  const bridge = await startBridge({ dataDir, collectorUrl: collector.url, env: { BRIDGE_SHUTDOWN_TIMEOUT_MS: '6000' } });
  const ledger = new Ledger();
  expect(await sendAll(bridge.url, litellmBatches(`drain-${Date.now()}`, 200, 50), ledger)).toEqual([]);
  // The worker has failed at least once and waits (Retry-After: 1) when the signal arrives.
  expect(await waitUntil(() => collector!.failedAnswers() > 0, 5_000)).toBe(true);
  bridge.signal('SIGTERM');
  collector.setBehaviour({ kind: 'ok' });
  const exit = await bridge.exited;

  const check = checkExport(ledger, collector);
  expect(exit).toEqual({ code: 0, signal: null });
  expect(check.missing).toEqual([]);
  expect(check.duplicated).toEqual([]);
  const stopped = bridge.logs.find((log) => log.msg.startsWith('stopped'));
  expect(stopped).toMatchObject({ msg: 'stopped; nothing left behind', complete: true, spoolEntries: 0 });
}, 30_000);

it('SIGTERM with a backend that hangs: the exit does not wait past BRIDGE_SHUTDOWN_TIMEOUT_MS, and nothing is lost', async () => {
  const collector = await scenario.startCollector({ kind: 'hang' });
  const dataDir = scenario.makeDataDir();
  // The OTLP timeout is far longer than the shutdown budget.
  const env = { BRIDGE_SHUTDOWN_TIMEOUT_MS: '1000', OTEL_EXPORTER_OTLP_TIMEOUT: '30000' };
  let bridge: RunningBridge = await startBridge({ dataDir, collectorUrl: collector.url, env });
  const ledger = new Ledger();
  expect(await sendAll(bridge.url, litellmBatches(`hang-${Date.now()}`, 200, 50), ledger)).toEqual([]);
  expect(await waitUntil(() => collector!.collector.requests.length > 0, 5_000)).toBe(true);
  const signalledAt = Date.now();
  bridge.signal('SIGTERM');
  const exit = await bridge.exited;
  const shutdownMillis = Date.now() - signalledAt;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(shutdownMillis).toBeLessThan(4_000);

  collector.setBehaviour({ kind: 'ok' });
  bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });
  expect(await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 15_000, 100)).toBe(true);
  expect(checkExport(ledger, collector).duplicated).toEqual([]);
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
  await sleep(0);
}, 30_000);
