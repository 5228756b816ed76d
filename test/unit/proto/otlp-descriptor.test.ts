// The committed OTLP descriptor: it is what the generator writes from the pinned .proto files, and
// Root.fromJSON of it reads what the official serializers of @opentelemetry/otlp-transformer write,
// for traces and metrics, field for field (compared with their OTLP/JSON of the same data).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { JsonMetricsSerializer, JsonTraceSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';

import { OTLP_DESCRIPTOR, OTLP_PROTO_VERSION } from '../../../src/proto/otlp-descriptor.js';

const ROOT_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const root = protobuf.Root.fromJSON(OTLP_DESCRIPTOR);

const INT64_KEYS = /^(intValue|asInt|count|bucketCounts|startTimeUnixNano|timeUnixNano|endTimeUnixNano)$/;

/**
 * One spelling for both sides: no default values (a serializer may write them or not), int64s as
 * strings, ids as hex. Zeros inside arrays (bucket counts) are kept.
 */
function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => (INT64_KEYS.test(key) ? String(v) : normalise(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalise(v, k);
      const empty = n === undefined || (Array.isArray(n) && n.length === 0) || (n !== null && typeof n === 'object' && !Array.isArray(n) && Object.keys(n).length === 0);
      if (!empty) out[k] = n;
    }
    return out;
  }
  if (value === 0 || value === '0' || value === '' || value === false) return undefined;
  if (typeof value === 'number' && INT64_KEYS.test(key)) return String(value);
  return value;
}

/** protobuf → plain object (base64 ids turned to hex, as OTLP/JSON writes them). */
function protoAsJson(type: protobuf.Type, bytes: Uint8Array): unknown {
  const object = type.toObject(type.decode(bytes), { longs: String, enums: Number, bytes: String, defaults: false, arrays: true });
  const hexIds = JSON.parse(
    JSON.stringify(object, (key, value: unknown) =>
      typeof value === 'string' && /^(traceId|spanId|parentSpanId)$/.test(key) ? Buffer.from(value, 'base64').toString('hex') : value,
    ),
  ) as unknown;
  return normalise(hexIds);
}

const json = (bytes: Uint8Array): unknown => normalise(JSON.parse(Buffer.from(bytes).toString('utf8')));

function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc', 'host.cores': 2 }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('scope-a', '1.0.0');
  const parent = tracer.startSpan('root', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
  const child = tracer.startSpan(
    'chat gpt-4o',
    { kind: SpanKind.CLIENT, attributes: { s: 'héllo 👋', i: 42, d: 1.5, b: true, list: ['a', 'b'], nums: [1, 2] } },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('first token', { n: 1 });
  child.setStatus({ code: 2, message: 'bad' });
  child.end();
  parent.end();
  return exporter.getFinishedSpans();
}

describe('OTLP descriptor', () => {
  it(`is what scripts/generate-otlp-descriptor.mjs writes (opentelemetry-proto ${OTLP_PROTO_VERSION})`, () => {
    const out = execFileSync(process.execPath, ['scripts/generate-otlp-descriptor.mjs', '--check'], { cwd: ROOT_DIR, encoding: 'utf8' });
    expect(out).toContain('is up to date');
  });

  it('reads ProtobufTraceSerializer output as the JsonTraceSerializer writes the same spans', () => {
    const spans = sdkSpans();
    const request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
    const decoded = protoAsJson(request, ProtobufTraceSerializer.serializeRequest(spans)!);
    expect(decoded).toEqual(json(JsonTraceSerializer.serializeRequest(spans)!));
    // Not vacuous: the content is there.
    const text = JSON.stringify(decoded);
    for (const needle of ['chat gpt-4o', 'héllo 👋', 'first token', spans[0]!.spanContext().spanId, '"service.name"']) expect(text).toContain(needle);
  });

  it('reads ProtobufMetricsSerializer output as the JsonMetricsSerializer writes the same metrics', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ resource: resourceFromAttributes({ 'service.name': 'svc' }), readers: [reader] });
    const meter = provider.getMeter('genai', '1.0.0');
    meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}' }).record(120, { 'gen_ai.token.type': 'input' });
    meter.createCounter('calls').add(3, { ok: true });
    await reader.forceFlush();
    const collected = exporter.getMetrics()[0]!;
    const request = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
    const decoded = protoAsJson(request, ProtobufMetricsSerializer.serializeRequest(collected)!);
    expect(decoded).toEqual(json(JsonMetricsSerializer.serializeRequest(collected)!));
    expect(JSON.stringify(decoded)).toContain('gen_ai.client.token.usage');
    await provider.shutdown();
  });

  it('skips fields a newer proto adds (unknown fields)', () => {
    const anyValue = root.lookupType('opentelemetry.proto.common.v1.AnyValue');
    // AnyValue { string_value = "x" } followed by an unknown field 99 (varint 7).
    const bytes = Uint8Array.from([0x0a, 0x01, 0x78, 0x98, 0x06, 0x07]);
    expect(anyValue.toObject(anyValue.decode(bytes))).toEqual({ stringValue: 'x' });
  });
});
