/**
 * The project's collector-config.yaml:
 * - `jaeger validate` accepts it (Jaeger v1.76 bundles OpenTelemetry Collector v0.140);
 * - a second Jaeger process running it as a plain collector (its addresses pointed at loopback
 *   through the variables the config reads) relays spans into the first Jaeger over OTLP/gRPC
 *   and to a stand-in for Tempo over OTLP/HTTP: first a hand-made span, then the bridge's own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_PUBLIC_KEY, postIngestion, startBridge, type Bridge } from './helpers/bridge.js';
import { startOtlpSink, type StubServer } from './helpers/http-stubs.js';
import { postOtlpJson, startJaeger, startJaegerAsCollector, waitFor, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { SpanKind, otelTraceId, renderTree, rootSpanId } from './helpers/otlp.js';
import { COLLECTOR_CONFIG, JAEGER_BIN, REPO_ROOT } from './helpers/paths.js';
import { freePorts } from './helpers/ports.js';
import { baseEnv, runToCompletion, type ManagedProcess } from './helpers/process.js';

describe('collector-config.yaml', () => {
  it('passes `jaeger validate --config collector-config.yaml`', async () => {
    const res = await runToCompletion({
      name: 'jaeger-validate',
      command: JAEGER_BIN,
      args: ['validate', '--config', COLLECTOR_CONFIG],
      cwd: REPO_ROOT,
      env: baseEnv(),
      timeoutMs: 60_000,
    });
    expect(res.code, res.output).toBe(0);
  });

  describe('run by a second Jaeger as a plain collector', () => {
    let store: Jaeger;
    let tempo: StubServer;
    let collector: ManagedProcess;
    let collectorUrl: string;
    let bridge: Bridge | undefined;

    beforeAll(async () => {
      store = await startJaeger('jaeger-store');
      tempo = await startOtlpSink();
      const [httpPort, metricsPort] = (await freePorts(2)) as [number, number];
      collectorUrl = `http://127.0.0.1:${httpPort}`;
      collector = await startJaegerAsCollector('jaeger-collector', COLLECTOR_CONFIG, {
        COLLECTOR_OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
        JAEGER_OTLP_GRPC_ENDPOINT: store.otlpGrpcEndpoint,
        TEMPO_OTLP_HTTP_ENDPOINT: tempo.url,
        COLLECTOR_METRICS_HOST: '127.0.0.1',
        COLLECTOR_METRICS_PORT: String(metricsPort),
      });
    });

    afterAll(async () => {
      await bridge?.stop();
      await collector?.stop();
      await tempo?.close();
      await store?.stop();
    });

    it('relays a hand-made OTLP/JSON span to Jaeger (gRPC) and Tempo (HTTP)', async () => {
      const traceId = randomBytes(16).toString('hex');
      const spanId = randomBytes(8).toString('hex');
      const now = BigInt(Date.now()) * 1_000_000n;
      const res = await postOtlpJson(collectorUrl, {
        resourceSpans: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'via-collector' } }] },
            scopeSpans: [
              {
                spans: [
                  {
                    traceId,
                    spanId,
                    name: 'relayed',
                    kind: SpanKind.INTERNAL,
                    startTimeUnixNano: String(now),
                    endTimeUnixNano: String(now + 1_000_000n),
                  },
                ],
              },
            ],
          },
        ],
      });
      expect(res.status).toBe(200);
      const spans = await waitForTrace(store.queryUrl, traceId);
      expect(spans).toHaveLength(1);
      expect(spans[0]).toMatchObject({ spanId, name: 'relayed' });
      expect(spans[0]!.resource['service.name']).toBe('via-collector');
      await waitFor(async () => tempo.requests.length > 0, 15_000, 'the Tempo stand-in to receive an export');
      const req = tempo.requests[0]!;
      expect(req.method).toBe('POST');
      expect(req.url).toBe('/v1/traces');
      expect(String(req.headers['content-type'])).toBe('application/x-protobuf');
    });

    it("relays the bridge's spans: Langfuse batch → bridge → collector → Jaeger", async () => {
      bridge = await startBridge({ otlpEndpoint: collectorUrl, name: 'bridge-collector' });
      const langfuseTraceId = randomUUID();
      const generationId = `gen-${randomUUID()}`;
      const t = Date.now();
      const iso = (ms: number): string => new Date(ms).toISOString();
      const post = await postIngestion(bridge.url, bridge.authHeader, {
        batch: [
          {
            id: randomUUID(),
            type: 'trace-create',
            timestamp: iso(t),
            body: { id: langfuseTraceId, name: 'collector-path', timestamp: iso(t), userId: 'u-collector' },
          },
          {
            id: randomUUID(),
            type: 'generation-create',
            timestamp: iso(t + 1),
            body: {
              id: generationId,
              traceId: langfuseTraceId,
              name: 'llm',
              startTime: iso(t),
              endTime: iso(t + 120),
              model: 'gpt-4o',
              input: [{ role: 'user', content: 'hi' }],
              output: { role: 'assistant', content: 'hello' },
              usage: { input: 3, output: 2, unit: 'TOKENS' },
            },
          },
        ],
        metadata: { sdk_name: 'e2e', sdk_version: '0', public_key: E2E_PUBLIC_KEY },
      });
      expect(post.status).toBe(207);
      expect(post.body).toMatchObject({ errors: [] });

      const traceId = otelTraceId(langfuseTraceId);
      const spans = await waitForTrace(store.queryUrl, traceId, { until: (s) => s.length >= 2, timeoutMs: 30_000 });
      const tree = renderTree(spans);
      const root = spans.find((s) => s.parentSpanId === '');
      expect(root, tree).toBeDefined();
      expect(root!.spanId).toBe(rootSpanId(langfuseTraceId));
      expect(root!.name).toBe('collector-path');
      expect(root!.attributes['langfuse.trace.id']).toBe(langfuseTraceId);
      const gen = spans.find((s) => s.kind === SpanKind.CLIENT);
      expect(gen, tree).toBeDefined();
      expect(gen!.name).toBe('chat gpt-4o');
      expect(gen!.parentSpanId).toBe(root!.spanId);
      // The Tempo stand-in received the same export (the pipeline fans out to both).
      await waitFor(
        async () => tempo.requests.length >= 2,
        15_000,
        "the Tempo stand-in to receive the bridge's spans",
      );
    });
  });
});
