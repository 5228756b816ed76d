// Issue 3: permanent export failures become dead letters, visible in /metrics and through
// `langfuse-otel-bridge dead-letters list`; `dead-letters retry` sends them again and keeps the
// ones the backend still refuses, unchanged. Runs the real process and CLI on one data directory.
import { expect, it } from 'vitest';
import { runBridgeCommand, startBridge, stopBridge } from '../../helpers/bridge-process.js';
import { checkExport, Ledger, postIngestion, waitUntil, scenarioResources } from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-dead-letters-');

interface ListedLetter {
  id: number;
  createdAt: string;
  destination: string;
  spans: number;
  bytes: number;
  reason: string;
}

const listed = (stdout: string): ListedLetter[] =>
  stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ListedLetter);

it('a backend that refuses for good: dead letters, listed by the CLI, resent by `dead-letters retry` once it accepts', async () => {
  const collector = await scenario.startCollector({ kind: 'status', status: 400, body: 'bad span' });
  const dataDir = scenario.makeDataDir();
  const options = { dataDir, collectorUrl: collector.url };
  const bridge = await startBridge(options);
  const ledger = new Ledger();
  for (const batch of litellmBatches(`dead-${Date.now()}`, 100, 50)) expect(ledger.record(batch, await postIngestion(bridge.url, batch))).toBe(true);
  // Summed over labels (the export metrics are per destination).
  const metric = async (name: string) => {
    const text = await (await fetch(`${bridge.url}/metrics`)).text();
    const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].map((m) => Number(m[1]));
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0);
  };
  // 100 observations and 100 roots, each refused once and never retried.
  expect(await waitUntil(async () => (await metric('bridge_dead_lettered_spans_total')) === 200, 10_000)).toBe(true);
  expect(await metric('bridge_dead_letters')).toBeGreaterThan(0);
  expect(await metric('bridge_spool_entries')).toBe(0);
  const attempts = collector.collector.requests.length;
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
  expect(collector.collector.requests.length).toBe(attempts);

  const list = await runBridgeCommand(options, ['dead-letters', 'list']);
  expect(list.code).toBe(0);
  const letters = listed(list.stdout);
  expect(letters.reduce((n, l) => n + l.spans, 0)).toBe(200);
  for (const letter of letters) expect(letter.reason).toBe('HTTP 400: bad span');
  expect(list.stderr).toContain(`${letters.length} dead letter(s)`);

  // Still refused: exit 1, every letter kept as it was.
  const refused = await runBridgeCommand(options, ['dead-letters', 'retry']);
  expect(refused.code).toBe(1);
  expect(listed((await runBridgeCommand(options, ['dead-letters', 'list'])).stdout)).toEqual(letters);
  expect(collector.exported().size).toBe(0);

  // Accepted: exit 0, the spans arrive, no letter left.
  collector.setBehaviour({ kind: 'ok' });
  const resent = await runBridgeCommand(options, ['dead-letters', 'retry']);
  expect(resent.code).toBe(0);
  const check = checkExport(ledger, collector);
  expect(check.missing).toEqual([]);
  expect(check.duplicated).toEqual([]);
  expect(listed((await runBridgeCommand(options, ['dead-letters', 'list'])).stdout)).toEqual([]);
}, 60_000);
