// The OTLP → ingestion-event converter: Langfuse's attribute semantics on langfuse.* spans, the
// client-root mark, pass-through of other spans with legacy GenAI names normalised, rejections.
import { describe, expect, it } from 'vitest';

import { normalizeGenAiNames } from '../../../src/ingestion/genai-legacy-names.js';
import type { IngestionEvent, ObservationEvent, PassthroughSpanEvent, TraceEvent } from '../../../src/ingestion/ingestion-event.js';
import type { OtlpAttributes, OtlpSpan, OtlpTraceRequest } from '../../../src/ingestion/otlp-span.js';
import { convertOtlpRequest, nanosToIso } from '../../../src/ingestion/otlp-to-events.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ROOT = 'b7ad6b7169203331';
const CHILD = '00f067aa0ba902b7';
const START = '1764590400123456789'; // 2025-12-01T12:00:00.123456789Z
const END = '1764590401987654321';

function span(overrides: Partial<OtlpSpan> & { attributes?: OtlpAttributes } = {}): OtlpSpan {
  return {
    traceId: TRACE,
    spanId: ROOT,
    name: 'litellm-acompletion',
    kind: 1,
    startTimeUnixNano: START,
    endTimeUnixNano: END,
    attributes: {},
    status: { code: 0 },
    ...overrides,
  };
}

function request(spans: OtlpSpan[], resource: OtlpAttributes = { 'service.name': 'litellm' }, scope = { name: 'langfuse-sdk', version: '4.18.0' }): OtlpTraceRequest {
  return { resourceSpans: [{ resource, scopeSpans: [{ scope, spans }] }] };
}

function convert(req: OtlpTraceRequest) {
  return convertOtlpRequest(req, { headers: {} });
}

const events = (req: OtlpTraceRequest): IngestionEvent[] => convert(req).groups.flatMap((g) => g.events);
const observation = (list: IngestionEvent[]) => list.find((e) => e.type !== 'trace-create' && e.type !== 'otel-span') as ObservationEvent;
const trace = (list: IngestionEvent[]) => list.find((e) => e.type === 'trace-create') as TraceEvent | undefined;

// The attributes of LiteLLM's v4 golden `completion_with_router.json`, as the callback sends them
// (objects as JSON text).
const ROUTER_ATTRIBUTES: OtlpAttributes = {
  'langfuse.internal.as_root': true,
  'langfuse.observation.cost_details': JSON.stringify({ total: 1.9999999999999998e-5 }),
  'langfuse.observation.input': JSON.stringify({ messages: [{ role: 'user', content: 'Hello!' }] }),
  'langfuse.observation.level': 'DEFAULT',
  'langfuse.observation.model.name': 'gpt-3.5-turbo',
  'langfuse.observation.model.parameters': JSON.stringify({ stream: false, max_retries: 0, extra_body: '{}' }),
  'langfuse.observation.type': 'generation',
  'langfuse.observation.usage_details': JSON.stringify({ input: 10, output: 10, total: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 }),
  'langfuse.trace.name': 'litellm-acompletion',
};

describe('convertOtlpRequest: spans with langfuse.* attributes', () => {
  it('reads a LiteLLM root generation into the trace-create and generation-create the ingestion path builds', () => {
    const out = convert(request([span({ attributes: ROUTER_ATTRIBUTES })]));
    expect(out).toMatchObject({ acceptedSpans: 1, rejectedSpans: 0, errorMessage: '' });
    expect(out.groups[0]!.source).toEqual({ sdkIntegration: 'litellm' });
    const list = out.groups[0]!.events;
    const gen = observation(list);
    expect(gen.type).toBe('generation-create');
    expect(gen.clientRoot).toBe(true);
    expect(gen.body).toMatchObject({
      id: ROOT,
      traceId: TRACE,
      parentObservationId: null,
      name: 'litellm-acompletion',
      startTime: '2025-12-01T12:00:00.123456789Z',
      endTime: '2025-12-01T12:00:01.987654321Z',
      environment: 'default',
      level: 'DEFAULT',
      model: 'gpt-3.5-turbo',
      modelParameters: { stream: false, max_retries: 0, extra_body: '{}' },
      usageDetails: { input: 10, output: 10, total: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
      costDetails: { total: 1.9999999999999998e-5 },
      input: { messages: [{ role: 'user', content: 'Hello!' }] },
    });
    const t = trace(list)!;
    expect(t.body).toMatchObject({ id: TRACE, name: 'litellm-acompletion', timestamp: '2025-12-01T12:00:00.123456789Z' });
    // A root's trace takes the observation's input when no trace input is set (Langfuse's rule).
    expect(t.body.input).toEqual({ messages: [{ role: 'user', content: 'Hello!' }] });
  });

  it('a span with a parent is not a root, but its trace attributes still update the trace', () => {
    const list = events(
      request([
        span({
          spanId: CHILD,
          parentSpanId: ROOT,
          name: 'test_generation_name',
          attributes: {
            'langfuse.observation.type': 'generation',
            'langfuse.observation.metadata.test_key': 'test_value',
            'langfuse.release': 'test_trace_release',
            'langfuse.version': 'test_trace_version',
            'langfuse.trace.name': 'test_trace_name',
            'langfuse.trace.tags': ['test_tag', 'test_tag_2'],
            'session.id': 'test_session_id',
            'user.id': 'test_user_id',
          },
        }),
      ]),
    );
    const gen = observation(list);
    expect(gen.clientRoot).toBeUndefined();
    expect(gen.body).toMatchObject({ parentObservationId: ROOT, metadata: { test_key: 'test_value' }, version: 'test_trace_version' });
    expect(trace(list)!.body).toMatchObject({
      name: 'test_trace_name',
      tags: ['test_tag', 'test_tag_2'],
      sessionId: 'test_session_id',
      userId: 'test_user_id',
      release: 'test_trace_release',
      version: 'test_trace_version',
    });
    // Not a root: the observation's input is not copied to the trace.
    expect(trace(list)!.body.input).toBeUndefined();
  });

  it('a child without trace attributes makes no trace-create', () => {
    const list = events(request([span({ spanId: CHILD, parentSpanId: ROOT, attributes: { 'langfuse.observation.type': 'span' } })]));
    expect(list.map((e) => e.type)).toEqual(['span-create']);
  });

  it('langfuse.internal.as_root makes a span with a parent the client root', () => {
    const gen = observation(events(request([span({ spanId: CHILD, parentSpanId: ROOT, attributes: { 'langfuse.internal.as_root': 'true', 'langfuse.observation.type': 'span' } })])));
    expect(gen.clientRoot).toBe(true);
    expect(gen.body.parentObservationId).toBe(ROOT);
  });

  it('reads metadata as JSON and flattened, level, status message, completion start, prompt, environment from the resource', () => {
    const list = events(
      request(
        [
          span({
            attributes: {
              'langfuse.observation.type': 'generation',
              'langfuse.observation.metadata': JSON.stringify({ a: 1, nested: { b: true } }),
              'langfuse.observation.metadata.c': 'three',
              'langfuse.observation.level': 'warn',
              'langfuse.observation.status_message': 'slow answer',
              'langfuse.observation.completion_start_time': JSON.stringify('2025-12-01T12:00:00.5Z'),
              'langfuse.observation.prompt.name': 'greeting',
              'langfuse.observation.prompt.version': 3,
              'langfuse.trace.metadata': JSON.stringify({ team: 'x' }),
              'langfuse.trace.public': 'true',
              'langfuse.trace.input': JSON.stringify({ question: 'q' }),
              'langfuse.trace.output': 'plain answer',
            },
          }),
        ],
        { 'service.name': 'my-app', 'service.version': '1.2.3', 'deployment.environment.name': 'Staging' },
      ),
    );
    expect(observation(list).body).toMatchObject({
      metadata: { a: 1, nested: { b: true }, c: 'three' },
      level: 'WARNING',
      statusMessage: 'slow answer',
      completionStartTime: '2025-12-01T12:00:00.5Z',
      promptName: 'greeting',
      promptVersion: 3,
      environment: 'staging',
      version: '1.2.3',
    });
    expect(trace(list)!.body).toMatchObject({ metadata: { team: 'x' }, public: true, input: { question: 'q' }, output: 'plain answer', environment: 'staging', version: '1.2.3' });
  });

  it('an error status gives level ERROR and its message, when no langfuse level is set', () => {
    const gen = observation(events(request([span({ status: { code: 2, message: 'RateLimitError' }, attributes: { 'langfuse.observation.type': 'generation' } })])));
    expect(gen.body).toMatchObject({ level: 'ERROR', statusMessage: 'RateLimitError' });
  });

  it('falls back to gen_ai.* for model, usage and cost, like Langfuse', () => {
    const gen = observation(
      events(
        request([
          span({
            attributes: {
              'langfuse.observation.type': 'generation',
              'gen_ai.request.model': 'gpt-4o',
              'gen_ai.request.temperature': 0.2,
              'gen_ai.usage.input_tokens': 12,
              'gen_ai.usage.output_tokens': 5,
              'gen_ai.usage.cost': 0.001,
            },
          }),
        ]),
      ),
    );
    expect(gen.body).toMatchObject({ model: 'gpt-4o', modelParameters: { temperature: 0.2 }, usageDetails: { input: 12, output: 5 }, costDetails: { total: 0.001 } });
  });

  it('maps observation types: langfuse type, then OpenInference kind, gen_ai operation, then a model', () => {
    const typeOf = (attributes: OtlpAttributes) => observation(events(request([span({ attributes: { 'langfuse.x': 1, ...attributes } })]))).type;
    expect(typeOf({ 'langfuse.observation.type': 'tool' })).toBe('tool-create');
    expect(typeOf({ 'langfuse.observation.type': 'event' })).toBe('event-create');
    expect(typeOf({ 'openinference.span.kind': 'RETRIEVER' })).toBe('retriever-create');
    expect(typeOf({ 'gen_ai.operation.name': 'embeddings' })).toBe('embedding-create');
    expect(typeOf({ model: 'gpt-4o' })).toBe('generation-create');
    expect(typeOf({})).toBe('span-create');
  });

  it('rejects a span whose event breaks the ingestion limits, alone, and says why', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 70; i++) deep = { d: deep };
    const out = convert(
      request([
        span({ attributes: { 'langfuse.observation.type': 'span', 'langfuse.observation.metadata': JSON.stringify(deep) } }),
        span({ spanId: CHILD, parentSpanId: ROOT, attributes: { 'langfuse.observation.type': 'span' } }),
      ]),
    );
    expect(out.acceptedSpans).toBe(1);
    expect(out.rejectedSpans).toBe(1);
    expect(out.errorMessage).toMatch(/^1 span\(s\) rejected: span b7ad6b7169203331: .*nesting deeper than 64 levels/);
    expect(out.groups[0]!.events.map((e) => e.body.id)).toEqual([CHILD]);
  });

  it('counts spans the receiver could not read', () => {
    const out = convertOtlpRequest({ resourceSpans: [{ resource: {}, scopeSpans: [{ scope: { name: 's' }, spans: [{ invalid: 'a span has no valid spanId' }] }] }] }, { headers: {} });
    expect(out).toMatchObject({ acceptedSpans: 0, rejectedSpans: 1, groups: [] });
    expect(out.errorMessage).toContain('a span has no valid spanId');
  });

  it('resends of the same span have the same envelope ids (duplicates downstream)', () => {
    const a = events(request([span({ attributes: ROUTER_ATTRIBUTES })]));
    const b = events(request([span({ attributes: ROUTER_ATTRIBUTES })]));
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
  });
});

describe('the client-root mark', () => {
  it('can never come from /api/public/ingestion: validation builds events field by field', () => {
    const raw = {
      id: 'e1',
      type: 'span-create',
      timestamp: '2025-12-01T12:00:00Z',
      clientRoot: true,
      body: { id: 's1', traceId: 't1', startTime: '2025-12-01T12:00:00Z' },
    };
    const accepted = validateBatch([raw]).accepted[0] as ObservationEvent;
    expect(accepted.type).toBe('span-create');
    expect(accepted.clientRoot).toBeUndefined();
  });
});

describe('convertOtlpRequest: spans without langfuse.* pass through', () => {
  it('keeps ids, kind, status, resource and scope; normalises legacy GenAI names', () => {
    const list = events(
      request(
        [
          span({
            spanId: CHILD,
            parentSpanId: ROOT,
            name: 'chat gpt-4o',
            kind: 3,
            status: { code: 2, message: 'boom' },
            attributes: {
              'gen_ai.system': 'az.ai.openai',
              'gen_ai.usage.prompt_tokens': 10,
              'gen_ai.usage.completion_tokens': 4,
              'gen_ai.request.model': 'gpt-4o',
              'llm.input_messages': [{ role: 'user' }] as never,
              tags: ['a', 'b'],
            },
          }),
        ],
        { 'service.name': 'rag-app', 'telemetry.sdk.language': 'python' },
        { name: 'opentelemetry.instrumentation.openai', version: '0.40.0' },
      ),
    );
    expect(list).toHaveLength(1);
    const pass = list[0] as PassthroughSpanEvent;
    expect(pass.type).toBe('otel-span');
    expect(pass.body).toEqual({
      id: CHILD,
      traceId: TRACE,
      parentSpanId: ROOT,
      name: 'chat gpt-4o',
      kind: 'CLIENT',
      startTimeUnixNano: START,
      endTimeUnixNano: END,
      attributes: {
        'gen_ai.provider.name': 'azure.ai.openai',
        'gen_ai.usage.input_tokens': 10,
        'gen_ai.usage.output_tokens': 4,
        'gen_ai.request.model': 'gpt-4o',
        'llm.input_messages': '[{"role":"user"}]',
        tags: ['a', 'b'],
      },
      status: { code: 'ERROR', message: 'boom' },
      resource: { 'service.name': 'rag-app', 'telemetry.sdk.language': 'python' },
      scope: { name: 'opentelemetry.instrumentation.openai', version: '0.40.0' },
    });
  });

  it('a current name already present wins over its legacy spelling', () => {
    expect(normalizeGenAiNames({ 'gen_ai.system': 'openai', 'gen_ai.provider.name': 'azure.ai.openai' })).toEqual({ 'gen_ai.provider.name': 'azure.ai.openai' });
  });
});

describe('nanosToIso', () => {
  it('keeps every nanosecond', () => {
    expect(nanosToIso('0')).toBe('1970-01-01T00:00:00.000000000Z');
    expect(nanosToIso('1764590400000000001')).toBe('2025-12-01T12:00:00.000000001Z');
  });
});

describe('what current LiteLLM sends (1.110.2 with langfuse 4.18.0, captured)', () => {
  it('an empty resource and User-Agent litellm/…: the integration is litellm; JSON metadata values are parsed', () => {
    const out = convertOtlpRequest(
      {
        resourceSpans: [
          {
            resource: {},
            scopeSpans: [
              {
                scope: { name: 'langfuse-sdk' },
                spans: [
                  span({
                    name: 'litellm-completion',
                    attributes: {
                      'langfuse.observation.type': 'generation',
                      'langfuse.observation.completion_start_time': '"2026-12-01T11:24:36.463329+00:00"',
                      'langfuse.observation.metadata.hidden_params': '{"api_base": "https://api.openai.com", "response_cost": 0.000225}',
                      'langfuse.observation.metadata.cache_hit': false,
                    },
                  }),
                ],
              },
            ],
          },
        ],
      },
      { headers: { 'user-agent': 'litellm/1.110.2', 'x-langfuse-sdk-name': 'python', 'x-langfuse-sdk-version': '4.18.0' } },
    );
    expect(out.groups[0]!.source).toEqual({ sdkName: 'python', sdkVersion: '4.18.0', sdkIntegration: 'litellm' });
    expect(observation(out.groups[0]!.events).body).toMatchObject({
      completionStartTime: '2026-12-01T11:24:36.463329+00:00',
      metadata: { hidden_params: { api_base: 'https://api.openai.com', response_cost: 0.000225 }, cache_hit: false },
    });
  });
});
