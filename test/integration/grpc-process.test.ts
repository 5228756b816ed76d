// The bridge process with OTEL_EXPORTER_OTLP_PROTOCOL=grpc against a grpc-js collector on
// 127.0.0.1: the collector answers UNAVAILABLE with a google.rpc.RetryInfo of 1.5 s twice, then OK.
// The export worker waits at least the RetryInfo delay before each retry, every acknowledged span
// arrives once, and the GenAI metrics follow over gRPC. Then over mTLS with the standard
// variables: without the client certificate the failure is named, after a restart with it every
// acknowledged span arrives.
import { status } from '@grpc/grpc-js';
import { expect, it } from 'vitest';
import { startBridge, stopBridge } from '../helpers/bridge-process.js';
import { startFakeGrpcCollector } from '../helpers/fake-grpc-collector.js';
import { checkExport, Ledger, postIngestion, scenarioResources, waitUntil, type TrackedCollector } from '../helpers/litellm-traffic.js';
import { litellmBatches } from '../helpers/ingestion-events.js';
import { makeTestCertificates } from '../helpers/test-certificates.js';

const scenario = scenarioResources('bridge-grpc-');
const RETRY_DELAY_MILLIS = 1500;

it('OTLP/gRPC: UNAVAILABLE with RetryInfo is retried after the delay; every acknowledged span arrives once; metrics follow', async () => {
  const callTimes: number[] = [];
  let traceCalls = 0;
  const grpc = scenario.track(
    await startFakeGrpcCollector((_, method) => {
      callTimes.push(Date.now());
      if (method === 'metrics') return { kind: 'ok' };
      return traceCalls++ < 2 ? { kind: 'status', code: status.UNAVAILABLE, details: 'warming up', retryDelayMillis: RETRY_DELAY_MILLIS } : { kind: 'ok' };
    }),
  );
  const bridge = await startBridge({
    dataDir: scenario.makeDataDir(),
    collectorUrl: grpc.url,
    env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: grpc.url, BRIDGE_METRICS: 'true', OTEL_METRIC_EXPORT_INTERVAL: '1000', BRIDGE_EXPORT_LINGER_MS: '200' },
  });
  const ledger = new Ledger();
  for (const batch of litellmBatches(`grpc-${Date.now()}`, 20, 20)) expect(ledger.record(batch, await postIngestion(bridge.url, batch))).toBe(true);

  // The ledger's check reads exported spans by id from a tracked collector: the gRPC calls answered OK.
  const tracked = {
    exported: () => {
      const out = new Map<string, Array<{ span: (typeof grpc.calls)[number]['spans'][number]; atMillis: number }>>();
      for (const call of grpc.calls.filter((c) => c.answer === 'ok')) for (const span of call.spans) out.set(span.spanId, [...(out.get(span.spanId) ?? []), { span, atMillis: 0 }]);
      return out;
    },
  } as unknown as TrackedCollector;
  expect(await waitUntil(() => checkExport(ledger, tracked).missing.length === 0, 20_000, 50)).toBe(true);
  expect(checkExport(ledger, tracked).duplicated).toEqual([]);
  expect(ledger.acknowledgedEvents()).toBe(40);

  const traces = grpc.calls.map((c, i) => ({ ...c, at: callTimes[i]! })).filter((c) => c.method === 'traces');
  expect(traces.slice(0, 3).map((c) => c.answer)).toEqual(['UNAVAILABLE', 'UNAVAILABLE', 'ok']);
  // The first failure is logged with its reason and the wait (later ones of the same outage may be summed up).
  const firstFailure = bridge.logs.find((log) => log.msg.startsWith('export failed; will retry'));
  expect(firstFailure).toMatchObject({ destination: 'otlp', reason: 'gRPC UNAVAILABLE: warming up' });
  expect(firstFailure!['retryInMillis']).toBeGreaterThanOrEqual(RETRY_DELAY_MILLIS);
  // The server's delay is a floor: the next call came no sooner.
  expect(traces[1]!.at - traces[0]!.at).toBeGreaterThanOrEqual(RETRY_DELAY_MILLIS - 50);
  expect(traces[2]!.at - traces[1]!.at).toBeGreaterThanOrEqual(RETRY_DELAY_MILLIS - 50);

  expect(await waitUntil(() => grpc.calls.some((c) => c.method === 'metrics' && c.body.includes(Buffer.from('gen_ai.client.operation.duration'))), 5_000, 50)).toBe(true);
  await stopBridge(bridge);
  expect(bridge.logs.filter((log) => log.level >= 50)).toEqual([]);
}, 60_000);

it('OTLP/gRPC over mTLS with the standard variables: without the client certificate a named failure, with it every span', async () => {
  const certs = makeTestCertificates();
  try {
    const grpc = scenario.track(await startFakeGrpcCollector({ kind: 'ok' }, { tls: { key: certs.read('serverKey'), cert: certs.read('serverCert'), clientCa: certs.read('ca') } }));
    const dataDir = scenario.makeDataDir();
    const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: grpc.url, OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.ca };
    const first = await startBridge({ dataDir, collectorUrl: grpc.url, env });
    const ledger = new Ledger();
    for (const batch of litellmBatches(`grpc-mtls-${Date.now()}`, 10, 10)) expect(ledger.record(batch, await postIngestion(first.url, batch))).toBe(true);
    const failure = await first.waitForLog((log) => log.msg.startsWith('export failed; will retry'), 15_000);
    expect(failure).toMatchObject({ destination: 'otlp', reason: expect.stringMatching(/^TLS handshake failed: client certificate required/) });
    expect(grpc.calls).toHaveLength(0);
    await stopBridge(first);

    const second = await startBridge({ dataDir, collectorUrl: grpc.url, env: { ...env, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.files.clientCert, OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.files.clientKey } });
    const received = () => new Set(grpc.calls.flatMap((c) => c.spans.map((s) => s.spanId)));
    expect(await waitUntil(() => [...ledger.expectedSpans().keys()].every((id) => received().has(id)), 20_000, 50)).toBe(true);
    expect(ledger.acknowledgedEvents()).toBe(20);
    await stopBridge(second);
  } finally {
    certs.remove();
  }
}, 60_000);
