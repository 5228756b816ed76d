// Issue 7, "done means": a memory budget far below the backlog, the backend down, then a restart on
// the same data under the same budget. The V8 heap is capped at 48 MiB (the old bridge held ~3 bytes
// of RSS per spooled byte, so this backlog would have killed it several times over): the bridge
// answers 503 with Retry-After once a budget is reached, is never killed, and after the restart
// every acknowledged span is exported, with 0 missing and 0 twice.
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../../helpers/bridge-process.js';
import { checkExport, Ledger, postIngestion, scenarioResources, summarise, waitUntil } from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-memory-budget-');

const HEAP_MIB = 48;
const BACKLOG_BYTES = 96 * 1024 * 1024;

it('a heap budget far below the backlog: 503 when full, never killed, and after a restart 0 missing', async () => {
  const started = Date.now();
  const collector = await scenario.startCollector({ kind: 'status', status: 503, headers: { 'Retry-After': '1' } });
  const dataDir = scenario.makeDataDir();
  const env = {
    NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`,
    BRIDGE_SPOOL_MAX_BYTES: String(BACKLOG_BYTES),
    BRIDGE_MEMORY_LIMIT_MIB: '160',
  };
  const bridge = await startBridge({ dataDir, collectorUrl: collector.url, env });

  // Fill until the bridge refuses; each call is ~2.3 KB of events, so ~40k calls make the backlog.
  const ledger = new Ledger();
  let refusals = 0;
  let sentCalls = 0;
  const statuses = new Map<string, number>();
  for (let round = 0; refusals < 20 && round < 2000; round++) {
    for (const batch of litellmBatches(`budget-${started}-${round}`, 100, 100, 0)) {
      const attempt = await postIngestion(bridge.url, batch);
      sentCalls += batch.length / 2;
      const key = attempt.kind === 'answer' ? `${attempt.status}${attempt.retryAfter ? '+Retry-After' : ''}` : 'error';
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (!ledger.record(batch, attempt)) refusals++;
    }
  }
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const spoolBytes = Number(/^bridge_spool_bytes (\d+)/m.exec(metrics)?.[1]);
  const peakRssMb = bridge.peakRssKb() / 1024;
  expect(bridge.isRunning()).toBe(true);
  expect([...statuses.keys()].sort()).toEqual(['207', '503+Retry-After']);
  expect(spoolBytes).toBeGreaterThan(BACKLOG_BYTES * 0.9);
  expect(collector.exported().size).toBe(0);
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });

  // The same budget, the backend back: everything acknowledged goes out, and nothing twice.
  collector.setBehaviour({ kind: 'ok' });
  const restarted = await startBridge({ dataDir, collectorUrl: collector.url, env });
  const complete = await waitUntil(() => checkExport(ledger, collector).missing.length === 0, 120_000, 250);
  const check = checkExport(ledger, collector);
  const restartPeakRssMb = restarted.peakRssKb() / 1024;
  expect(restarted.isRunning()).toBe(true);
  const exit = await stopBridge(restarted);

  summarise('memory budget', {
    heapMib: HEAP_MIB,
    acknowledgedEvents: ledger.acknowledgedEvents(),
    spoolBytesAtLimit: spoolBytes,
    statuses: Object.fromEntries(statuses),
    peakRssMb: peakRssMb.toFixed(1),
    restartPeakRssMb: restartPeakRssMb.toFixed(1),
    expectedSpans: check.expected,
    missing: check.missing.length,
    duplicated: check.duplicated.length,
    sentCalls,
    durationMs: Date.now() - started,
  });
  expect(complete, `missing: ${check.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(check.missing).toEqual([]);
  expect(check.duplicated).toEqual([]);
  expect(exit).toEqual({ code: 0, signal: null });
}, 300_000);
