// Issue 10 (5): two OTLP destinations from a BRIDGE_CONFIG file, the real process, one backend
// answering 503 for 60 s. The healthy one receives every span while the other is still down
// (one queue and one worker per destination: a dead backend holds nobody back); the other gets
// everything once it is back. For both: 0 missing and 0 exported twice (no crash: exactly once).
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../../helpers/bridge-process.js';
import {
  checkExport,
  Ledger,
  otlpDestinationsYaml,
  postIngestion,
  scenarioResources,
  sleep,
  summarise,
  uncoveredChildren,
  waitUntil,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-two-destinations-');

const OUTAGE_MILLIS = 60_000;
/** Nothing listens on the discard port: spans sent to the env's endpoint would never arrive. */
const UNUSED_URL = 'http://127.0.0.1:9/v1/traces';

it('one of two OTLP destinations answers 503 for 60 s: the other receives everything meanwhile; both get every span once', async () => {
  const started = Date.now();
  const healthy = await scenario.startCollector({ kind: 'ok' });
  const down = await scenario.startCollector({ kind: 'ok' });
  const downUntilMillis = started + OUTAGE_MILLIS;
  down.onRequest(() =>
    Date.now() < downUntilMillis ? { kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down for maintenance' } : undefined,
  );
  const config = scenario.writeBridgeConfig(otlpDestinationsYaml({ healthy: healthy.url, down: down.url }));
  const bridge = await startBridge({ dataDir: scenario.makeDataDir(), collectorUrl: UNUSED_URL, env: { BRIDGE_CONFIG: config } });

  const ledger = new Ledger();
  for (const batch of litellmBatches(`two-destinations-${started}`, 400, 40)) {
    const attempt = await postIngestion(bridge.url, batch);
    expect(attempt.kind === 'answer' && attempt.status).toBe(207);
    expect(ledger.record(batch, attempt)).toBe(true);
    await sleep(50);
  }
  expect(ledger.refused).toEqual([]);

  // The healthy destination has everything while the other one is still down.
  const healthyComplete = await waitUntil(() => checkExport(ledger, healthy).missing.length === 0, downUntilMillis - Date.now() - 5_000, 100);
  const healthyCompleteAtMillis = Date.now();
  const healthyCheck = checkExport(ledger, healthy);
  const downFailuresMeanwhile = down.failedAnswers();
  const downExportedMeanwhile = down.exported().size;
  const metricsMeanwhile = await (await fetch(`${bridge.url}/metrics`)).text();

  // Then the other one comes back: at most one backoff step (30 s) later it has caught up.
  const downComplete = await waitUntil(() => checkExport(ledger, down).missing.length === 0, downUntilMillis - Date.now() + 45_000, 200);
  const downCheck = checkExport(ledger, down);
  const firstAcceptedByDown = Math.min(...[...down.exported().values()].map((list) => list[0]!.atMillis));
  const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
  const exit = await stopBridge(bridge);

  summarise('two destinations, one down for 60 s', {
    acknowledged: ledger.acknowledgedEvents(),
    expectedSpans: healthyCheck.expected,
    healthyCompleteAfterMs: healthyCompleteAtMillis - started,
    healthyMissing: healthyCheck.missing.length,
    healthyDuplicated: healthyCheck.duplicated.length,
    downFailedAttemptsMeanwhile: downFailuresMeanwhile,
    downFirstAcceptedAfterMs: firstAcceptedByDown - started,
    downCompleteAfterMs: Date.now() - started,
    downMissing: downCheck.missing.length,
    downDuplicated: downCheck.duplicated.length,
  });
  expect(ledger.acknowledgedEvents()).toBe(800);
  expect(healthyComplete, `healthy missing: ${healthyCheck.missing.slice(0, 5).join(', ')}`).toBe(true);
  // "Meanwhile" is real: the other backend was still refusing and had accepted nothing.
  expect(healthyCompleteAtMillis).toBeLessThan(downUntilMillis);
  expect(downFailuresMeanwhile).toBeGreaterThan(0);
  expect(downExportedMeanwhile).toBe(0);
  expect(metricsMeanwhile).toMatch(new RegExp(`^bridge_spans_exported_total\\{destination="healthy"\\} ${healthyCheck.expected}$`, 'm'));
  expect(metricsMeanwhile).toMatch(/^bridge_export_failures_total\{destination="down",kind="retryable"\} [1-9]/m);
  expect(metricsMeanwhile).not.toMatch(/^bridge_export_failures_total\{destination="healthy"/m);
  expect(metricsMeanwhile).not.toMatch(/^bridge_spans_exported_total\{destination="down"\}/m);
  expect(healthyCheck.duplicated).toEqual([]);
  expect(uncoveredChildren(healthy)).toEqual([]);

  expect(downComplete, `down missing: ${downCheck.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(firstAcceptedByDown).toBeGreaterThanOrEqual(downUntilMillis);
  expect(downCheck.missing).toEqual([]);
  expect(downCheck.duplicated).toEqual([]);
  expect(uncoveredChildren(down)).toEqual([]);
  expect(metrics).toMatch(new RegExp(`^bridge_spans_exported_total\\{destination="down"\\} ${downCheck.expected}$`, 'm'));
  expect(metrics).toMatch(/^bridge_dead_letters 0$/m);
  expect(metrics).toMatch(/^bridge_queued_spans 0$/m);
  expect(exit).toEqual({ code: 0, signal: null });
}, 150_000);
