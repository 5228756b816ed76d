/**
 * TLS with client certificates against a real Go server (issue 19, as an operator checks it):
 * Jaeger v2, an OpenTelemetry Collector distribution, with its OTLP receivers (HTTP and gRPC)
 * on TLS from a private CA and `client_ca_file` set, so a client certificate is required. The
 * certificates are made here with openssl. Jaeger also takes the GenAI metrics (its Prometheus
 * exporter shows what arrived).
 * - over http/protobuf with the OTEL_EXPORTER_OTLP_* TLS variables and a 2 s metrics interval:
 *   the trace arrives and the metrics arrive within 6 s, with no error line;
 * - over gRPC without the client certificate: the log names the destination and the reason, for
 *   spans (retried) and for metrics; after a restart with it, every acknowledged trace arrives.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeLogRecords, postIngestion, startBridge, type Bridge } from './helpers/bridge.js';
import { startJaegerAsCollector, waitFor, waitForTrace } from './helpers/jaeger.js';
import { otelTraceId } from './helpers/otlp.js';
import { freePorts } from './helpers/ports.js';
import type { ManagedProcess } from './helpers/process.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jaeger-mtls-'));
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all from that CA. */
function makeCertificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=e2e-ca');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], ['client', 'extendedKeyUsage=clientAuth']] as const) {
    fs.writeFileSync(file(`${name}.ext`), `${ext}\n`);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
}

function jaegerConfig(ports: { http: number; grpc: number; query: number; queryGrpc: number; prometheus: number }): string {
  const tls = `{cert_file: ${file('server.crt')}, key_file: ${file('server.key')}, client_ca_file: ${file('ca.crt')}}`;
  return `
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter]}
    metrics: {receivers: [otlp], exporters: [prometheus]}
  telemetry:
    metrics: {level: none}
    logs: {level: info}
extensions:
  jaeger_storage:
    backends: {memstore: {memory: {max_traces: 1000}}}
  jaeger_query:
    storage: {traces: memstore}
    enable_tracing: false
    http: {endpoint: "127.0.0.1:${ports.query}"}
    grpc: {endpoint: "127.0.0.1:${ports.queryGrpc}"}
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:${ports.http}", tls: ${tls}}
      grpc: {endpoint: "127.0.0.1:${ports.grpc}", tls: ${tls}}
processors:
  batch: {timeout: 50ms}
exporters:
  prometheus: {endpoint: "127.0.0.1:${ports.prometheus}"}
  jaeger_storage_exporter: {trace_storage: memstore}
`;
}

/** A trace with one LLM generation, as the Langfuse SDKs send it. */
function traceBatch(langfuseTraceId: string) {
  const now = new Date();
  const later = new Date(now.getTime() + 800);
  return {
    batch: [
      { id: randomUUID(), type: 'trace-create', timestamp: now.toISOString(), body: { id: langfuseTraceId, name: 'mtls', timestamp: now.toISOString() } },
      {
        id: randomUUID(),
        type: 'generation-create',
        timestamp: now.toISOString(),
        body: { id: randomUUID(), traceId: langfuseTraceId, name: 'chat', model: 'gpt-4o', startTime: now.toISOString(), endTime: later.toISOString(), usage: { input: 12, output: 3, unit: 'TOKENS' } },
      },
    ],
  };
}

const hasRootAndGeneration = (spans: Array<{ parentSpanId: string }>) => spans.length >= 2 && spans.some((s) => s.parentSpanId === '');

describe('mTLS into Jaeger (OTLP receivers requiring a client certificate)', () => {
  let jaeger: ManagedProcess;
  let queryUrl: string;
  let prometheusUrl: string;
  let otlpHttp: number;
  let otlpGrpc: number;
  const bridges: Bridge[] = [];
  const ownDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jaeger-mtls-data-'));
  const clientTls = () => ({ OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.crt'), OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: file('client.crt'), OTEL_EXPORTER_OTLP_CLIENT_KEY: file('client.key') });

  beforeAll(async () => {
    makeCertificates();
    const [http, grpc, query, queryGrpc, prometheus] = (await freePorts(5)) as [number, number, number, number, number];
    otlpHttp = http;
    otlpGrpc = grpc;
    queryUrl = `http://127.0.0.1:${query}`;
    prometheusUrl = `http://127.0.0.1:${prometheus}/metrics`;
    fs.writeFileSync(file('jaeger.yaml'), jaegerConfig({ http, grpc, query, queryGrpc, prometheus }));
    jaeger = await startJaegerAsCollector('jaeger-mtls', file('jaeger.yaml'), {});
    await waitFor(async () => (await fetch(`${queryUrl}/api/services`)).ok, 10_000, 'Jaeger query API');
  });

  afterAll(async () => {
    for (const bridge of bridges) if (!bridge.proc.hasExited) await bridge.stop();
    await jaeger?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(ownDataDir, { recursive: true, force: true });
  });

  it('over http/protobuf with the TLS variables: the trace arrives, and the metrics with a 2 s interval within 6 s, with no error line', async () => {
    const service = `mtls-http-${randomUUID().slice(0, 8)}`;
    const bridge = await startBridge({
      otlpEndpoint: `https://127.0.0.1:${otlpHttp}`,
      name: 'bridge-mtls-http',
      env: { ...clientTls(), BRIDGE_METRICS: 'true', OTEL_METRIC_EXPORT_INTERVAL: '2000', OTEL_SERVICE_NAME: service },
    });
    bridges.push(bridge);
    const langfuseTraceId = randomUUID();
    const res = await postIngestion(bridge.url, bridge.authHeader, traceBatch(langfuseTraceId));
    expect(res.status).toBe(207);
    await waitForTrace(queryUrl, otelTraceId(langfuseTraceId), { until: hasRootAndGeneration, timeoutMs: 15_000 });
    // The bound: with a 2 s interval the metrics arrive within 6 s.
    await waitFor(
      async () => (await (await fetch(prometheusUrl)).text()).split('\n').some((l) => l.startsWith('gen_ai_client_token_usage_count{') && l.includes(`job="${service}"`)),
      6_000,
      'the GenAI metrics in Jaeger',
    );
    const problems = bridgeLogRecords(bridge).filter((r) => Number(r.level) >= 50 || String(r.msg).includes('export failed'));
    expect(problems).toEqual([]);
  });

  it('over gRPC without the client certificate the failure is named and retried; after a restart with it every acknowledged trace arrives', async () => {
    const common = { BRIDGE_DATA_DIR: ownDataDir, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    const without = await startBridge({
      otlpEndpoint: `https://127.0.0.1:${otlpGrpc}`,
      name: 'bridge-mtls-grpc-no-cert',
      env: { ...common, OTEL_EXPORTER_OTLP_CERTIFICATE: file('ca.crt'), BRIDGE_METRICS: 'true', OTEL_METRIC_EXPORT_INTERVAL: '1000' },
    });
    bridges.push(without);
    const ids = Array.from({ length: 5 }, () => randomUUID());
    for (const id of ids) expect((await postIngestion(without.url, without.authHeader, traceBatch(id))).status).toBe(207);
    const line = await without.proc.waitForLine((l) => l.includes('export failed; will retry'), 15_000, 'the export failure');
    const record = JSON.parse(line) as Record<string, unknown>;
    expect(record).toMatchObject({ destination: 'otlp' });
    expect(String(record.reason)).toMatch(/^TLS handshake failed: client certificate required/);
    expect(await inJaeger(otelTraceId(ids[0]!))).toBe(false);
    // The metrics go the same way and fail the same way: said in the log, not only to the SDK's diag logger.
    const metricsLine = await without.proc.waitForLine((l) => l.includes('GenAI metrics export failed'), 10_000, 'the metrics export failure');
    expect(String((JSON.parse(metricsLine) as Record<string, unknown>).reason)).toMatch(/^TLS handshake failed: client certificate required/);
    await without.stop();

    const withCert = await startBridge({ otlpEndpoint: `https://127.0.0.1:${otlpGrpc}`, name: 'bridge-mtls-grpc', env: { ...common, ...clientTls() } });
    bridges.push(withCert);
    for (const id of ids) await waitForTrace(queryUrl, otelTraceId(id), { until: hasRootAndGeneration, timeoutMs: 15_000 });
  });

  async function inJaeger(traceId: string): Promise<boolean> {
    return (await fetch(`${queryUrl}/api/v3/traces/${traceId}`)).ok;
  }
});
