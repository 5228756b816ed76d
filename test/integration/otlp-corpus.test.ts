// Corpus, issue 9: LiteLLM's v4 OTLP goldens (../shared/fixtures/litellm-v4-pr/, the span the
// `langfuse` callback sends to /api/public/otel/v1/traces from 1.104 on) go through the OTLP route
// as protobuf, built by the OpenTelemetry SDK; the same call's ingestion body
// (../shared/fixtures/litellm/, LiteLLM ≤ 1.103) goes through /api/public/ingestion. Both must give
// the same facts: span name, CLIENT kind, provider, model, tokens, cost and messages.
import { ROOT_CONTEXT, TraceFlags, trace, type Attributes, type AttributeValue } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import type { SpanDraft } from '../../src/mapping/span-draft.js';
import { postOtlp } from '../helpers/otlp-post.js';
import { hasSharedFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { createTestService, type TestService } from '../helpers/test-service.js';

interface V4Golden {
  name: string;
  parent_span_id: string | null;
  attributes: Record<string, unknown>;
}

interface IngestionBody {
  batch: Array<{ type: string; body: Record<string, any> }>;
}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

/** Attribute values as LiteLLM writes them: objects as JSON text, string lists as lists. */
function toAttributes(golden: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(golden)) {
    out[key] = typeof value === 'object' && value !== null && !(Array.isArray(value) && value.every((v) => typeof v === 'string')) ? JSON.stringify(value) : (value as AttributeValue);
  }
  return out;
}

/** The golden span, made and serialized by the OpenTelemetry SDK, with its ids and parent. */
function otlpBody(golden: V4Golden): Buffer {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'litellm' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    idGenerator: { generateTraceId: () => TRACE_ID, generateSpanId: () => SPAN_ID },
  });
  const parent = golden.parent_span_id
    ? trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: golden.parent_span_id, traceFlags: TraceFlags.SAMPLED, isRemote: true })
    : ROOT_CONTEXT;
  provider.getTracer('langfuse-sdk', '4.18.0').startSpan(golden.name, { attributes: toAttributes(golden.attributes) }, parent).end();
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans())!);
}

/** The facts the issue names, from a generation's draft. */
function facts(draft: SpanDraft) {
  const a = draft.attributes;
  return {
    name: draft.name,
    kind: draft.kind,
    provider: a['gen_ai.provider.name'],
    model: a['gen_ai.request.model'],
    inputTokens: a['gen_ai.usage.input_tokens'],
    outputTokens: a['gen_ai.usage.output_tokens'],
    inputMessages: a['gen_ai.input.messages'],
    outputMessages: a['gen_ai.output.messages'],
  };
}

const FILES = ['completion_with_langfuse_metadata.json', 'completion_with_router.json'];

describe.skipIf(!hasSharedFixtures)('corpus: LiteLLM v4 OTLP goldens give the facts of the ingestion path', () => {
  let services: TestService[] = [];
  afterEach(async () => {
    await Promise.all(services.map((s) => s.shutdown()));
    services = [];
  });

  async function viaOtlp(golden: V4Golden): Promise<SpanDraft[]> {
    const service = await createTestService({ LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk' });
    services.push(service);
    const res = await postOtlp(service.app, 'application/x-protobuf', otlpBody(golden), { Authorization: `Basic ${Buffer.from('pk:sk').toString('base64')}` });
    expect(res.status).toBe(200);
    expect(res.body).toEqual(Buffer.alloc(0));
    await service.flush(2_000);
    return service.sink.drafts;
  }

  async function viaIngestion(body: IngestionBody): Promise<SpanDraft[]> {
    const service = await createTestService();
    services.push(service);
    const res = await request(service.app).post('/api/public/ingestion').send(body);
    expect(res.status).toBe(207);
    await service.flush(2_000);
    return service.sink.drafts;
  }

  it.each(FILES)('%s: same span name, kind, provider, model, tokens and messages; cost as each sent it', async (file) => {
    const golden = readFixture<V4Golden>(`litellm-v4-pr/${file}`);
    const legacy = readFixture<IngestionBody>(`litellm/${file}`);
    const otlp = await viaOtlp(golden);
    const ingestion = await viaIngestion(legacy);

    const otlpGen = otlp.find((d) => d.span.type === 'observation' && d.span.id === SPAN_ID)!;
    const legacyGenId = legacy.batch.find((e) => e.type === 'generation-create')!.body.id as string;
    const ingestionGen = ingestion.find((d) => d.span.type === 'observation' && d.span.id === legacyGenId)!;
    if (process.env.SHOW_FACTS) console.log(file, JSON.stringify({ otlp: otlp.map((d) => [d.name, d.kind, d.parent ?? null]), ingestion: ingestion.map((d) => [d.name, d.kind, d.parent ?? null]), otlpGen: otlpGen.attributes, ingestionGen: ingestionGen.attributes }, null, 1));
    expect(facts(otlpGen)).toEqual(facts(ingestionGen));
    expect(facts(otlpGen)).toMatchObject({ name: 'chat gpt-3.5-turbo', kind: 'CLIENT', provider: 'openai', model: 'gpt-3.5-turbo', inputTokens: 10 });
    expect(JSON.parse(otlpGen.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello!' }] }]);
    // Ids as sent.
    expect(otlpGen.traceId).toBe(TRACE_ID);

    // Cost: each path exports the cost its client computed (the two goldens come from different runs).
    const goldenCost = (golden.attributes['langfuse.observation.cost_details'] as { total: number }).total;
    expect(otlpGen.attributes['gen_ai.usage.cost']).toBe(goldenCost);
    const legacyCost = legacy.batch.find((e) => e.type === 'generation-create')!.body.usage.totalCost as number;
    expect(ingestionGen.attributes['gen_ai.usage.cost']).toBe(legacyCost);
  });

  it('completion_with_langfuse_metadata.json: a span with a parent keeps it; its trace fields name the root as the ingestion path does', async () => {
    const golden = readFixture<V4Golden>('litellm-v4-pr/completion_with_langfuse_metadata.json');
    const legacy = readFixture<IngestionBody>('litellm/completion_with_langfuse_metadata.json');
    const otlp = await viaOtlp(golden);
    const ingestion = await viaIngestion(legacy);
    const gen = otlp.find((d) => d.span.type === 'observation')!;
    expect(gen.parent).toEqual({ type: 'observation', id: golden.parent_span_id });
    const root = otlp.find((d) => d.span.type === 'root')!;
    const legacyRoot = ingestion.find((d) => d.span.type === 'root')!;
    const traceFacts = (d: SpanDraft) => ({
      name: d.name,
      user: d.attributes['user.id'],
      session: d.attributes['session.id'],
      tags: d.attributes['langfuse.trace.tags'],
      version: d.attributes['langfuse.version'],
    });
    expect(traceFacts(root)).toEqual(traceFacts(legacyRoot));
    expect(traceFacts(root)).toEqual({ name: 'test_trace_name', user: 'test_user_id', session: 'test_session_id', tags: ['test_tag', 'test_tag_2'], version: 'test_trace_version' });
    expect(gen.attributes['langfuse.observation.metadata.test_key']).toBe('test_value');
  });

  it('completion_with_router.json: the as_root generation is the root span itself, carrying the trace name; no synthetic root', async () => {
    const otlp = await viaOtlp(readFixture<V4Golden>('litellm-v4-pr/completion_with_router.json'));
    expect(otlp).toHaveLength(1);
    const [gen] = otlp;
    expect(gen!.parent).toBeUndefined();
    expect(gen!.attributes['langfuse.trace.name']).toBe('litellm-acompletion');
    expect(gen!.attributes['gen_ai.request.stream']).toBe(false);
    // The trace's input is the generation's own (Langfuse's rule): not repeated on the same span.
    expect(gen!.attributes['gen_ai.input.messages']).toBeDefined();
    expect(gen!.attributes['langfuse.trace.input']).toBeUndefined();
  });
});
