// Encoding an ExportTraceServiceRequest from ReadableSpans, three ways, on the same spans:
//   ours        dist/export/otlp-protobuf.js (hand-written wire writer)
//   transformer @opentelemetry/otlp-transformer's ProtobufTraceSerializer
//   protobufjs  Root.fromJSON(src/proto descriptor): ReadableSpan → message object → encode
// Batches of --spans (512, the export batch size) LLM-shaped spans (a ~2 KB prompt, a ~1 KB
// answer, a dozen GenAI attributes). Checks first that all three write the same bytes, then times
// --rounds (200) batches each, interleaved, after a warm-up, and prints µs per span.
//
//   npm run build && node bench/otlp-encode.mjs [--spans 512] [--rounds 200]
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import protobuf from 'protobufjs';
import { encodeTraceRequest } from '../dist/export/otlp-protobuf.js';
import { OTLP_DESCRIPTOR } from '../dist/proto/otlp-descriptor.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SPANS = arg('spans', 512);
const ROUNDS = arg('rounds', 200);

function makeSpans(n) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'litellm', 'deployment.environment.name': 'bench' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('langfuse-otel-bridge', '0.1.0');
  const prompt = JSON.stringify([{ role: 'system', content: 'You are helpful. '.repeat(40) }, { role: 'user', content: 'Résumé des ventes 📈 '.repeat(40) }]);
  const answer = JSON.stringify([{ role: 'assistant', content: 'Voici le résumé. '.repeat(60) }]);
  for (let i = 0; i < n; i++) {
    const root = tracer.startSpan('litellm-completion', { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
    const span = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 1200 + i,
          'gen_ai.usage.output_tokens': 300,
          'gen_ai.usage.cost': 0.0123,
          'gen_ai.request.temperature': 0.2,
          'gen_ai.response.finish_reasons': ['stop'],
          'gen_ai.input.messages': prompt,
          'gen_ai.output.messages': answer,
          'langfuse.observation.type': 'generation',
          'user.id': `user-${i % 10}`,
        },
      },
      trace.setSpan(ROOT_CONTEXT, root),
    );
    span.end();
    root.end();
  }
  return exporter.getFinishedSpans().filter((s) => s.name !== 'litellm-completion').slice(0, n);
}

const root = protobuf.Root.fromJSON(OTLP_DESCRIPTOR);
const Request = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

const hr = (t) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
function anyValue(v) {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
  return {};
}
const keyValues = (attrs) => Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }));
/** What a protobufjs-based encoder would do: build the message objects, then encode. */
function protobufjsEncode(spans) {
  const byResource = new Map();
  for (const s of spans) {
    let scopes = byResource.get(s.resource);
    if (!scopes) byResource.set(s.resource, (scopes = new Map()));
    const scope = s.instrumentationScope;
    let list = scopes.get(scope);
    if (!list) scopes.set(scope, (list = []));
    const ctx = s.spanContext();
    list.push({
      traceId: Buffer.from(ctx.traceId, 'hex'),
      spanId: Buffer.from(ctx.spanId, 'hex'),
      parentSpanId: s.parentSpanContext ? Buffer.from(s.parentSpanContext.spanId, 'hex') : undefined,
      flags: ctx.traceFlags | 0x100,
      name: s.name,
      kind: s.kind + 1,
      startTimeUnixNano: String(hr(s.startTime)),
      endTimeUnixNano: String(hr(s.endTime)),
      attributes: keyValues(s.attributes),
      droppedAttributesCount: s.droppedAttributesCount,
      droppedEventsCount: s.droppedEventsCount,
      droppedLinksCount: s.droppedLinksCount,
      status: { code: s.status.code, message: s.status.message },
    });
  }
  const resourceSpans = [...byResource].map(([resource, scopes]) => ({
    resource: { attributes: keyValues(resource.attributes), droppedAttributesCount: 0 },
    scopeSpans: [...scopes].map(([scope, list]) => ({ scope: { name: scope.name, version: scope.version }, spans: list })),
  }));
  return Request.encode(Request.fromObject({ resourceSpans })).finish();
}

const spans = makeSpans(SPANS);
const ways = {
  ours: () => encodeTraceRequest(spans),
  transformer: () => ProtobufTraceSerializer.serializeRequest(spans),
  protobufjs: () => protobufjsEncode(spans),
};
// Same content: each decodes to the same message as the transformer's bytes.
const reference = JSON.stringify(Request.toObject(Request.decode(ways.transformer()), { longs: String, bytes: String }));
for (const [name, encode] of Object.entries(ways)) {
  const decoded = JSON.stringify(Request.toObject(Request.decode(encode()), { longs: String, bytes: String }));
  if (decoded !== reference) throw new Error(`${name} does not encode the same request as the transformer`);
}
const bytes = ways.transformer().byteLength;
for (let i = 0; i < 20; i++) for (const encode of Object.values(ways)) encode();
const totals = Object.fromEntries(Object.keys(ways).map((k) => [k, 0n]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, encode] of Object.entries(ways)) {
    const t0 = process.hrtime.bigint();
    encode();
    totals[name] += process.hrtime.bigint() - t0;
  }
}
const perSpanMicros = Object.fromEntries(Object.entries(totals).map(([k, ns]) => [k, Number(ns) / 1000 / ROUNDS / SPANS]));
for (const [k, us] of Object.entries(perSpanMicros)) console.log(`${k.padEnd(12)} ${us.toFixed(2)} µs/span`);
console.log(JSON.stringify({ node: process.version, spans: SPANS, rounds: ROUNDS, bytesPerSpan: Math.round(bytes / SPANS), perSpanMicros }));
