/**
 * OTLP/gRPC export into Jaeger's OTLP/gRPC receiver (issue 17): the bridge process with
 * OTEL_EXPORTER_OTLP_PROTOCOL=grpc and gzip, pointed at Jaeger's gRPC port on 127.0.0.1; the trace
 * is read back over Jaeger's query API with its root and its CLIENT generation span.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeLogRecords, postIngestion, startBridge, type Bridge } from './helpers/bridge.js';
import { startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { SpanKind, otelTraceId, rootSpanId } from './helpers/otlp.js';
import { recordTree, resetReport } from './helpers/report.js';

describe('OTLP/gRPC export into Jaeger', () => {
  let jaeger: Jaeger;
  let bridge: Bridge;

  beforeAll(async () => {
    resetReport('grpc-export');
    jaeger = await startJaeger('jaeger-grpc');
    bridge = await startBridge({
      otlpEndpoint: `http://${jaeger.otlpGrpcEndpoint}`,
      name: 'bridge-grpc',
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
    });
  });

  afterAll(async () => {
    if (bridge && !bridge.proc.hasExited) await bridge.stop();
    await jaeger?.stop();
  });

  it('a trace with a generation arrives over gRPC, gzip-compressed, with its tree and GenAI attributes', async () => {
    const listening = bridgeLogRecords(bridge).find((r) => r.msg === 'listening');
    expect(listening?.otlp).toEqual({ url: `http://${jaeger.otlpGrpcEndpoint}`, protocol: 'grpc' });
    const langfuseTraceId = `grpc-${randomUUID()}`;
    const now = new Date();
    const later = new Date(now.getTime() + 1200);
    const generationId = randomUUID();
    const res = await postIngestion(bridge.url, bridge.authHeader, {
      batch: [
        { id: randomUUID(), type: 'trace-create', timestamp: now.toISOString(), body: { id: langfuseTraceId, name: 'grpc-export', timestamp: now.toISOString() } },
        {
          id: randomUUID(),
          type: 'generation-create',
          timestamp: now.toISOString(),
          body: {
            id: generationId,
            traceId: langfuseTraceId,
            name: 'litellm-completion',
            model: 'gpt-4o',
            startTime: now.toISOString(),
            endTime: later.toISOString(),
            input: [{ role: 'user', content: 'Hi' }],
            output: { role: 'assistant', content: 'Hello' },
            usage: { input: 12, output: 3, unit: 'TOKENS' },
          },
        },
      ],
    });
    expect(res.status).toBe(207);

    const traceId = otelTraceId(langfuseTraceId);
    const spans = await waitForTrace(jaeger.queryUrl, traceId, { until: (s) => s.length >= 2 });
    recordTree('grpc-export', 'OTLP/gRPC export', traceId, spans);
    const root = spans.find((s) => s.spanId === rootSpanId(langfuseTraceId));
    const generation = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(root).toMatchObject({ name: 'grpc-export', kind: SpanKind.INTERNAL, parentSpanId: '' });
    expect(generation).toMatchObject({ name: 'chat gpt-4o', parentSpanId: root!.spanId });
    expect(generation!.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 3 });
    expect(bridgeLogRecords(bridge).filter((r) => Number(r.level) >= 40 && r.destination !== undefined)).toEqual([]);
  });
});
