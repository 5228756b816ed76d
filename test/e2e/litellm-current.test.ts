/**
 * The current LiteLLM (scripts/e2e/requirements-current.txt) with its `langfuse` callback,
 * which sends OTLP/protobuf to <LANGFUSE_HOST>/api/public/otel/v1/traces, pointed at the
 * bridge exactly as at Langfuse; mocked model responses; the bridge exports to Jaeger. The
 * same scenarios as litellm.test.ts (scripts/e2e/litellm_scenarios.py). Each trace is checked
 * against the spans LiteLLM handed to its exporter: ids kept as sent, no span added, and every
 * generation a `chat <model>` CLIENT span with provider, model, tokens, cost and messages.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMessages, expectToolCallPart } from './helpers/genai-facts.js';
import { waitForTrace } from './helpers/jaeger.js';
import { SpanKind, StatusCode, renderTree, type FlatSpan } from './helpers/otlp.js';
import { litellmOtelTraceId, runLitellmScenarios, type LitellmResult, type SentSpan } from './helpers/python.js';
import { recordTree, resetReport } from './helpers/report.js';
import { startStack, type Stack } from './helpers/stack.js';

const REPORT = 'litellm-current';
const OTLP_PATH = '/api/public/otel/v1/traces';

/** Parse one of the JSON-string attributes LiteLLM sends (usage_details, cost_details, …). */
function sentJson(span: SentSpan, key: string): Record<string, unknown> {
  return JSON.parse(String(span.attributes[key])) as Record<string, unknown>;
}

describe('current LiteLLM (OTLP) → bridge → Jaeger', () => {
  let stack: Stack;
  let result: LitellmResult;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    stack = await startStack('litellm-current', 3000);
    const { proxy, bridge } = stack;
    result = await runLitellmScenarios({ venv: 'current', langfuseHost: proxy.url, publicKey: bridge.publicKey, secretKey: bridge.secretKey, run });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const scenario = (name: string): LitellmResult['scenarios'][string] => {
    const s = result.scenarios[name];
    if (s === undefined) throw new Error(`scenario ${name} did not run: ${JSON.stringify(result.errors)}`);
    return s;
  };
  const sentSpans = (otelTraceId: string): SentSpan[] => result.otlp.flatMap((e) => e.spans).filter((s) => s.traceId === otelTraceId);

  /**
   * Wait until Jaeger has every span LiteLLM sent for the trace, and check the promises of the
   * OTLP path: same trace, span and parent ids, no span added, generations are CLIENT spans.
   */
  async function fetchTrace(label: string, otelTraceId: string): Promise<{ spans: FlatSpan[]; sent: SentSpan[]; tree: string }> {
    const sent = sentSpans(otelTraceId);
    expect(sent.length, `LiteLLM exported spans for trace ${otelTraceId}`).toBeGreaterThan(0);
    const spans = await waitForTrace(stack.jaeger.queryUrl, otelTraceId, {
      until: (got) => sent.every((s) => got.some((g) => g.spanId === s.spanId)),
      timeoutMs: 30_000,
    });
    recordTree(REPORT, label, otelTraceId, spans);
    const tree = renderTree(spans);
    expect(spans.map((s) => s.spanId).sort(), `the spans sent, no more\n${tree}`).toEqual(sent.map((s) => s.spanId).sort());
    for (const s of sent) {
      const got = spans.find((g) => g.spanId === s.spanId)!;
      expect(got.parentSpanId, `parent of ${s.name} kept\n${tree}`).toBe(s.parentSpanId);
      expect(got.startNs, `start of ${s.name}\n${tree}`).toBe(BigInt(s.startTimeUnixNano));
      expect(got.endNs, `end of ${s.name}\n${tree}`).toBe(BigInt(s.endTimeUnixNano));
      if (s.attributes['langfuse.observation.type'] === 'generation') expect(got.kind, `${s.name} is CLIENT\n${tree}`).toBe(SpanKind.CLIENT);
    }
    return { spans, sent, tree };
  }

  /** The `chat <model>` facts every LiteLLM chat generation must carry. */
  function expectChatSpan(g: FlatSpan, sent: SentSpan, model: string, tree: string): void {
    expect(g.name, tree).toBe(`chat ${model}`);
    expect(g.attributes['gen_ai.operation.name'], tree).toBe('chat');
    expect(g.attributes['gen_ai.request.model'], tree).toBe(model);
    expect(g.attributes['gen_ai.provider.name'], tree).toBe('openai');
    const usage = sentJson(sent, 'langfuse.observation.usage_details');
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(usage.input);
    expect(g.attributes['gen_ai.usage.output_tokens'], tree).toBe(usage.output);
    expect(g.attributes['gen_ai.usage.cost'] as number, tree).toBeCloseTo(Number(sentJson(sent, 'langfuse.observation.cost_details').total), 12);
  }

  it('every OTLP export is answered 200 and nothing else is needed', () => {
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.versions.litellm).not.toBe('1.107.0');
    expect(result.versions.langfuse).toMatch(/^4\./);
    const projects = stack.proxy.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/api/public/projects'));
    expect(projects.map((r) => r.status)).toContain(200);
    const posts = stack.proxy.requests.filter((r) => r.method === 'POST');
    expect(posts.length).toBeGreaterThanOrEqual(1);
    for (const p of posts) {
      expect(p.url).toBe(OTLP_PATH);
      expect(p.headers['content-type']).toBe('application/x-protobuf');
      expect(p.status, `POST ${p.url} answered`).toBe(200);
      expect(p.responseHeaders?.['content-type']).toMatch(/^application\/x-protobuf/);
    }
    expect(result.otlp.map((e) => e.result)).toEqual(result.otlp.map(() => 'SUCCESS'));
  });

  it('plain completion: the span LiteLLM sent is a "chat gpt-4o" CLIENT span with GenAI attributes', async () => {
    const s = scenario('plain');
    const { spans, sent, tree } = await fetchTrace('plain', s.traceId);
    expect(spans, tree).toHaveLength(1);
    const g = spans[0]!;
    expectChatSpan(g, sent[0]!, 'gpt-4o', tree);
    expect(g.attributes['gen_ai.request.temperature'], tree).toBe(0.2);
    expect(g.attributes['gen_ai.request.max_tokens'], tree).toBe(50);
    expect(g.status.code, tree).not.toBe(StatusCode.ERROR);
    const input = expectMessages(g.attributes['gen_ai.input.messages'], tree);
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
    expect(input[1]!.parts).toEqual([{ type: 'text', content: 'What is the capital of France?' }]);
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.role).toBe('assistant');
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'Paris.' });
    expect(g.attributes['langfuse.trace.name'], tree).toBe('litellm-completion');
  });

  it('streaming: completion_start_time becomes gen_ai.response.time_to_first_chunk', async () => {
    const s = scenario('streaming');
    const { spans, sent, tree } = await fetchTrace('streaming', litellmOtelTraceId(s.traceId));
    const g = spans[0]!;
    expectChatSpan(g, sent[0]!, 'gpt-4o-mini', tree);
    const first = Date.parse(JSON.parse(String(sent[0]!.attributes['langfuse.observation.completion_start_time'])) as string);
    const expected = first / 1e3 - sent[0]!.startTimeUnixNano / 1e9;
    const ttfc = g.attributes['gen_ai.response.time_to_first_chunk'];
    expect(typeof ttfc, tree).toBe('number');
    expect(ttfc as number, tree).toBeCloseTo(expected, 2);
    expect(g.attributes['langfuse.trace.name'], tree).toBe(s.traceName);
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: s.output });
  });

  it('tool calls: the response tool call becomes a tool_call part of gen_ai.output.messages', async () => {
    const s = scenario('tools');
    const { spans, sent, tree } = await fetchTrace('tools', litellmOtelTraceId(s.traceId));
    const g = spans[0]!;
    expectChatSpan(g, sent[0]!, 'gpt-4o', tree);
    expectToolCallPart(g.attributes['gen_ai.output.messages'], s.toolCall as { id: string; name: string; arguments: string }, tree);
  });

  it('failure: level ERROR becomes span status ERROR with the message, and error.type', async () => {
    const s = scenario('failure');
    const { spans, sent, tree } = await fetchTrace('failure', litellmOtelTraceId(s.traceId));
    const g = spans[0]!;
    expect(sent[0]!.attributes['langfuse.observation.level']).toBe('ERROR');
    expect(g.name, tree).toBe('chat gpt-4o-mini');
    expect(g.kind, tree).toBe(SpanKind.CLIENT);
    expect(g.status.code, tree).toBe(StatusCode.ERROR);
    expect(g.status.message, tree).toBe(sent[0]!.attributes['langfuse.observation.status_message']);
    expect(g.status.message).toContain(String(s.message));
    expect(String(g.attributes['error.type'] ?? ''), tree).not.toBe('');
  });

  it('embedding: an "embeddings text-embedding-3-small" CLIENT span', async () => {
    const s = scenario('embedding');
    const { spans, sent, tree } = await fetchTrace('embedding', litellmOtelTraceId(s.traceId));
    const g = spans[0]!;
    expect(g.name, tree).toBe('embeddings text-embedding-3-small');
    expect(g.attributes['gen_ai.operation.name'], tree).toBe('embeddings');
    expect(g.attributes['gen_ai.provider.name'], tree).toBe('openai');
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(sentJson(sent[0]!, 'langfuse.observation.usage_details').input);
  });

  it('metadata controls: trace name/user/session/tags/metadata on the root, parent_observation_id kept', async () => {
    const s = scenario('metadata');
    const { spans, sent, tree } = await fetchTrace('metadata', litellmOtelTraceId(s.traceId));
    expect(spans, tree).toHaveLength(2);
    const planner = spans.find((g) => g.parentSpanId === '')!;
    const answer = spans.find((g) => g !== planner)!;
    expect(sent.find((x) => x.spanId === planner.spanId)!.name).toBe('planner');
    expect(answer.parentSpanId, tree).toBe(planner.spanId);
    for (const g of [planner, answer]) expectChatSpan(g, sent.find((x) => x.spanId === g.spanId)!, 'gpt-4o', tree);
    expect(planner.attributes['langfuse.trace.name'], tree).toBe(s.traceName);
    expect(planner.attributes['user.id'], tree).toBe(s.userId);
    expect(planner.attributes['session.id'], tree).toBe(s.sessionId);
    const tags = planner.attributes['langfuse.trace.tags'];
    expect(Array.isArray(tags) ? [...(tags as string[])].sort() : tags, tree).toEqual([...(s.tags as string[])].sort());
    expect(planner.attributes['langfuse.trace.metadata.team'], tree).toBe('observability');
    expect(planner.attributes['langfuse.trace.metadata.run'], tree).toBe(run);
    expect(planner.attributes['langfuse.observation.name'], tree).toBe('planner');
    expect(answer.attributes['langfuse.observation.name'], tree).toBe('answer');
  });

  it('several calls with the same trace_id: three parent-less generations in one trace', async () => {
    const s = scenario('multi');
    const { spans, tree } = await fetchTrace('multi', litellmOtelTraceId(s.traceId));
    expect(spans, tree).toHaveLength(3);
    for (const g of spans) {
      expect(g.name, tree).toBe('chat gpt-4o-mini');
      expect(g.parentSpanId, tree).toBe('');
    }
    expect(spans.map((g) => g.attributes['langfuse.observation.name']).sort(), tree).toEqual([...(s.generationNames as string[])].sort());
  });
});

/**
 * The `langfuse_otel` callback: OpenInference `llm.*` attributes plus some `langfuse.*` ones
 * (no model.name, usage_details or cost_details), two spans per call (`litellm_request` and a
 * `raw_gen_ai_request` child). The generation must still be a `chat <model>` CLIENT span with
 * provider, model, tokens, cost and messages.
 */
describe('current LiteLLM langfuse_otel callback → bridge → Jaeger', () => {
  let stack: Stack;
  let result: LitellmResult;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    stack = await startStack('litellm-otel', 1000);
    const { proxy, bridge } = stack;
    result = await runLitellmScenarios({
      venv: 'current',
      callback: 'langfuse_otel',
      langfuseHost: proxy.url,
      publicKey: bridge.publicKey,
      secretKey: bridge.secretKey,
      run,
      only: ['plain', 'failure'],
    });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function trace(label: string, traceId: string): Promise<{ spans: FlatSpan[]; tree: string }> {
    const sent = result.otlp.flatMap((e) => e.spans).filter((s) => s.traceId === traceId);
    expect(sent.length, `spans sent for ${label}`).toBeGreaterThan(0);
    const spans = await waitForTrace(stack.jaeger.queryUrl, traceId, {
      until: (got) => sent.every((s) => got.some((g) => g.spanId === s.spanId)),
      timeoutMs: 30_000,
    });
    recordTree(REPORT, `langfuse_otel ${label}`, traceId, spans);
    return { spans, tree: renderTree(spans) };
  }

  it('plain: a "chat gpt-4o" CLIENT span with provider, model, tokens, cost and messages', async () => {
    expect(result.errors, JSON.stringify(result.errors)).toEqual([]);
    expect(result.otlp.map((e) => e.result)).toEqual(result.otlp.map(() => 'SUCCESS'));
    const { spans, tree } = await trace('plain', result.scenarios.plain!.traceId);
    const g = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(g, `a CLIENT span\n${tree}`).toBeDefined();
    expect(g!.name, tree).toBe('chat gpt-4o');
    expect(g!.attributes['gen_ai.request.model'], tree).toBe('gpt-4o');
    expect(g!.attributes['gen_ai.provider.name'], tree).toBe('openai');
    expect(g!.attributes['gen_ai.usage.input_tokens'], tree).toBe(10);
    expect(g!.attributes['gen_ai.usage.output_tokens'], tree).toBe(20);
    expect(g!.attributes['gen_ai.usage.cost'] as number, tree).toBeCloseTo(0.000225, 12);
    expect(expectMessages(g!.attributes['gen_ai.input.messages'], tree).map((m) => m.role)).toEqual(['system', 'user']);
    expect(expectMessages(g!.attributes['gen_ai.output.messages'], tree)[0]!.parts).toContainEqual({ type: 'text', content: 'Paris.' });
  });

  it('failure: the CLIENT span has status ERROR with the message', async () => {
    const sent = result.otlp.flatMap((e) => e.spans).find((s) => s.status.code === 'ERROR');
    expect(sent, 'LiteLLM sent an ERROR span').toBeDefined();
    const { spans, tree } = await trace('failure', sent!.traceId);
    const g = spans.find((s) => s.spanId === sent!.spanId)!;
    expect(g.kind, tree).toBe(SpanKind.CLIENT);
    expect(g.name, tree).toBe('chat gpt-4o-mini');
    expect(g.status.code, tree).toBe(StatusCode.ERROR);
    expect(g.status.message, tree).toContain(String(result.scenarios.failure!.message));
  });
});
