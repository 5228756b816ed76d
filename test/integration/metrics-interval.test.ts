// Issue 19: the GenAI metrics with a 2 s interval arrive within 6 s of the span that feeds them,
// and the bridge logs no error line about them: the reader's timeout is lowered to the interval at
// start, with one warning (the bridge process, a fake collector taking traces and metrics).
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../helpers/bridge-process.js';
import { postIngestion, scenarioResources, waitUntil } from '../helpers/litellm-traffic.js';
import { litellmBatches } from '../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-metrics-interval-');

it('metrics with OTEL_METRIC_EXPORT_INTERVAL=2000 arrive within 6 s, with one warning and no error line', async () => {
  const collector = await scenario.startCollector({ kind: 'ok' });
  const metricsUrl = collector.url.replace('/v1/traces', '/v1/metrics');
  const bridge = await startBridge({
    dataDir: scenario.makeDataDir(),
    collectorUrl: collector.url,
    env: { BRIDGE_METRICS: 'true', OTEL_METRIC_EXPORT_INTERVAL: '2000', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: metricsUrl },
  });
  const [batch] = litellmBatches(`metrics-${Date.now()}`, 1, 1);
  const spanArrived = () => collector.collector.requests.some((r) => r.path === '/v1/traces' && r.spans.some((s) => s.name.startsWith('chat ')));
  const metricsArrived = () =>
    collector.collector.requests.some((r) => r.path === '/v1/metrics' && r.rawBody.includes(Buffer.from('gen_ai.client.token.usage')));
  expect((await postIngestion(bridge.url, batch!)).kind).toBe('answer');
  const arrived = await waitUntil(spanArrived, 10_000, 20);
  if (!arrived) console.log(JSON.stringify(collector.collector.requests.map((r) => [r.path, r.spans.map((s) => s.name)])), JSON.stringify(bridge.logs.slice(-5)));
  expect(arrived).toBe(true);
  const spanAt = Date.now();
  expect(await waitUntil(metricsArrived, 6_000, 20)).toBe(true);
  console.log(`[metrics] gen_ai.client.token.usage arrived ${Date.now() - spanAt} ms after its span`);
  await stopBridge(bridge);

  expect(bridge.logs.filter((log) => log.level >= 50)).toEqual([]);
  expect(bridge.logs.filter((log) => /OTEL_METRIC_EXPORT_INTERVAL/.test(log.msg))).toEqual([
    expect.objectContaining({ level: 40, msg: expect.stringMatching(/^OTEL_METRIC_EXPORT_INTERVAL \(2000 ms\) is shorter than OTEL_METRIC_EXPORT_TIMEOUT \(30000 ms\): the metrics export timeout is lowered to 2000 ms/) }),
  ]);
  expect(bridge.stderr()).toBe('');
}, 40_000);
