// Issue 3 (a): the OTLP backend is down while 1,200 LiteLLM events arrive (503 with Retry-After,
// 502, 429, then hanging past the OTLP timeout), then comes back: every event answered 201 is
// exported, and no span id is exported twice (no crash, so exactly once).
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../../helpers/bridge-process.js';
import type { CollectorBehaviour } from '../../helpers/fake-collector.js';
import {
  checkExport,
  Ledger,
  postIngestion,
  sleep,
  summarise,
  uncoveredChildren,
  waitUntil,
  scenarioResources,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-outage-');

/** The outage as the bridge sees it, attempt by attempt: each retryable kind the worker must ride out. */
const OUTAGE: CollectorBehaviour[] = [
  { kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down for maintenance' },
  { kind: 'status', status: 502, body: 'bad gateway' },
  { kind: 'status', status: 429, headers: { 'Retry-After': '1' } },
  { kind: 'hang' },
];

it('(a) backend down during an ingest of 1,200 events, then up: every acknowledged event exported, none twice', async () => {
  const started = Date.now();
  // Down until the ingest is over and the worker met every kind of failure once.
  let failures = 0;
  let ingestDone = false;
  const collector = await scenario.startCollector({ kind: 'ok' });
  collector.onRequest(() => {
    if (ingestDone && failures >= OUTAGE.length) return { kind: 'ok' };
    return OUTAGE[failures++ % OUTAGE.length];
  });
  const dataDir = scenario.makeDataDir();
  // A short OTLP timeout so the hanging attempt turns into a retry quickly.
  const bridge = await startBridge({ dataDir, collectorUrl: collector.url, env: { OTEL_EXPORTER_OTLP_TIMEOUT: '300' } });

  const ledger = new Ledger();
  const batches = litellmBatches(`outage-${started}`, 600, 50);
  for (const batch of batches) {
    const attempt = await postIngestion(bridge.url, batch);
    expect(attempt.kind === 'answer' && attempt.status).toBe(207);
    expect(ledger.record(batch, attempt)).toBe(true);
    await sleep(80);
  }
  expect(ledger.refused).toEqual([]);
  // The outage was real: the worker kept failing while the events came in.
  expect(collector.failedAnswers()).toBeGreaterThan(0);
  expect(collector.exported().size).toBe(0);

  ingestDone = true;
  const complete = await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 40_000, 100);
  const check = checkExport(ledger, collector);
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const peakKb = bridge.peakRssKb();
  const exit = await stopBridge(bridge);

  summarise('(a) backend outage', {
    sent: ledger.sent.size,
    acknowledged: ledger.acknowledgedEvents(),
    expectedSpans: check.expected,
    exportedSpans: check.exported,
    missing: check.missing.length,
    duplicated: check.duplicated.length,
    failedExportAttempts: collector.failedAnswers(),
    peakRssMb: (peakKb / 1024).toFixed(1),
    durationMs: Date.now() - started,
  });
  // Every kind of failure was served once (a hang is an attempt without an answer).
  expect(failures).toBeGreaterThanOrEqual(OUTAGE.length);
  expect(complete, `missing: ${check.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(ledger.acknowledgedEvents()).toBe(1200);
  expect(check.missing).toEqual([]);
  expect(check.duplicated).toEqual([]);
  expect(uncoveredChildren(collector)).toEqual([]);
  expect(metrics).toMatch(/^bridge_dead_letters 0$/m);
  expect(metrics).toMatch(/^bridge_export_failures_total\{destination="otlp",kind="retryable"\} [1-9]/m);
  expect(metrics).not.toMatch(/^bridge_export_failures_total\{destination="otlp",kind="permanent"\}/m);
  expect(exit).toEqual({ code: 0, signal: null });
}, 90_000);
