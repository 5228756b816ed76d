/**
 * LiteLLM (PyPI, pinned in scripts/e2e/requirements.txt) with its `langfuse` callback
 * (Langfuse Python SDK v2), pointed at the bridge exactly as at Langfuse, with mocked model
 * responses; the bridge exports to Jaeger; every scenario's trace is looked up through
 * Jaeger's HTTP API and checked against the bridge's mapping contract.
 *
 * The scenarios live in scripts/e2e/litellm_scenarios.py and run in one Python process (LiteLLM
 * takes seconds to import). A transparent loopback proxy in front of the bridge records the
 * HTTP exchanges, so the test can also check LiteLLM's start-up call and the SDK's requests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from './helpers/bridge.js';
import { startInterceptingProxy, type StubServer } from './helpers/http-stubs.js';
import { expectMessages, expectToolCallPart } from './helpers/genai-facts.js';
import { startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import {
  SpanKind,
  StatusCode,
  isoToNs,
  jsonAttr,
  observationSpanId,
  otelTraceId,
  renderTree,
  rootSpanId,
  type FlatSpan,
} from './helpers/otlp.js';
import { runLitellmScenarios, type LitellmResult, type SentEvent } from './helpers/python.js';
import { recordTree, resetReport } from './helpers/report.js';

const REPORT = 'litellm';

describe('LiteLLM → bridge → Jaeger', () => {
  let jaeger: Jaeger;
  let bridge: Bridge;
  let proxy: StubServer;
  let result: LitellmResult;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    jaeger = await startJaeger('jaeger-litellm');
    // LiteLLM's Langfuse client sends a batch when 15 events are queued or every
    // LANGFUSE_FLUSH_INTERVAL (whole seconds, default 1 s), so one trace's events can arrive in
    // batches up to ~1 s apart. The bridge exports a trace's root after BRIDGE_TRACE_IDLE_MS
    // without events; with less than the client's flush interval the root would be exported
    // before the trace's last generations arrive (they would then be late updates). 3 s leaves
    // room for a slow CI machine.
    bridge = await startBridge({ otlpEndpoint: jaeger.otlpHttpUrl, name: 'bridge-litellm', traceIdleMs: 3000 });
    proxy = await startInterceptingProxy(bridge.url, () => undefined);
    result = await runLitellmScenarios({
      langfuseHost: proxy.url,
      publicKey: bridge.publicKey,
      secretKey: bridge.secretKey,
      run,
    });
  });

  afterAll(async () => {
    await proxy?.close();
    if (bridge) {
      const exit = await bridge.stop();
      expect(exit, 'bridge exit on SIGTERM').toEqual({ code: 0, signal: null });
    }
    await jaeger?.stop();
  });

  // -------------------------------------------------------------------------------------------
  // helpers
  // -------------------------------------------------------------------------------------------
  const scenario = (name: string): LitellmResult['scenarios'][string] => {
    const s = result.scenarios[name];
    if (s === undefined) throw new Error(`scenario ${name} did not run: ${JSON.stringify(result.errors)}`);
    return s;
  };

  /** The generation events the SDK sent for a Langfuse trace id. */
  const sentGenerations = (langfuseTraceId: string): SentEvent[] =>
    result.ingestion.flatMap((p) => p.events).filter((e) => e.type === 'generation-create' && e.traceId === langfuseTraceId);

  /** Wait for the trace in Jaeger (root + `generations` CLIENT spans) and check the common shape. */
  async function fetchTrace(
    label: string,
    langfuseTraceId: string,
    traceName: string,
    generations: number,
  ): Promise<{ spans: FlatSpan[]; root: FlatSpan; gens: FlatSpan[]; tree: string }> {
    const traceId = otelTraceId(langfuseTraceId);
    const spans = await waitForTrace(jaeger.queryUrl, traceId, {
      until: (s) => s.some((x) => x.parentSpanId === '') && s.filter((x) => x.kind === SpanKind.CLIENT).length >= generations,
      timeoutMs: 30_000,
    });
    recordTree(REPORT, label, traceId, spans);
    const tree = renderTree(spans);
    const roots = spans.filter((s) => s.parentSpanId === '');
    expect(roots, `exactly one root span\n${tree}`).toHaveLength(1);
    const root = roots[0]!;
    expect(root.spanId, tree).toBe(rootSpanId(langfuseTraceId));
    expect(root.name, tree).toBe(traceName);
    expect(root.kind, tree).toBe(SpanKind.INTERNAL);
    expect(root.attributes['langfuse.trace.id'], tree).toBe(langfuseTraceId);
    const ids = new Set(spans.map((s) => s.spanId));
    for (const s of spans) {
      expect(s.traceId).toBe(traceId);
      expect(s.resource['service.name'], `service.name of ${s.name}`).toBe('litellm');
      if (s.parentSpanId !== '') expect(ids.has(s.parentSpanId), `parent of ${s.name} is in the trace\n${tree}`).toBe(true);
    }
    const gens = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(gens, `${generations} generation span(s)\n${tree}`).toHaveLength(generations);
    for (const g of gens) {
      expect(g.startNs >= root.startNs && g.endNs <= root.endNs, `root spans its children\n${tree}`).toBe(true);
    }
    return { spans, root, gens, tree };
  }

  const seconds = (iso: string): number => Number(isoToNs(iso)) / 1e9;

  // -------------------------------------------------------------------------------------------
  // tests
  // -------------------------------------------------------------------------------------------
  it('starts against the bridge like against Langfuse, and every batch is accepted', () => {
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.versions).toEqual({ litellm: '1.103.11', langfuse: '2.60.10' });
    // LiteLLM's start-up call: GET /api/public/projects with the keys (Basic auth), answered 200.
    const projects = proxy.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/api/public/projects'));
    expect(projects.length).toBeGreaterThanOrEqual(1);
    expect(projects[0]!.headers.authorization).toBe(bridge.authHeader);
    expect(projects[0]!.status).toBe(200);
    // The SDK's ingestion POSTs: all 207 without per-event errors.
    expect(result.ingestion.length).toBeGreaterThanOrEqual(1);
    for (const post of result.ingestion) {
      expect(post.exception).toBeUndefined();
      expect(post.status).toBe(207);
      expect(post.errors).toEqual([]);
      expect(post.metadata?.sdk_integration).toBe('litellm');
    }
    const posts = proxy.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/api/public/ingestion'));
    expect(posts.length).toBe(result.ingestion.length);
    // Python SDK v2 spells its SDK headers with underscores.
    expect(posts[0]!.headers['x_langfuse_sdk_name']).toBe('python');
    const types = new Set(result.ingestion.flatMap((p) => p.events.map((e) => e.type)));
    expect([...types].sort()).toEqual(['generation-create', 'trace-create']);
  });

  it('plain completion: UUID trace id, root span + "chat gpt-4o" CLIENT span with GenAI attributes', async () => {
    const s = scenario('plain');
    expect(s.traceId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    const { root, gens, tree } = await fetchTrace('plain', s.traceId, 'litellm-completion', 1);
    expect(otelTraceId(s.traceId)).toBe(s.traceId.replace(/-/g, ''));
    const g = gens[0]!;
    const sent = sentGenerations(s.traceId)[0]!;
    expect(g.parentSpanId).toBe(root.spanId);
    expect(g.spanId).toBe(observationSpanId(sent.id!));
    expect(g.name).toBe('chat gpt-4o');
    expect(g.attributes['gen_ai.operation.name'], tree).toBe('chat');
    expect(g.attributes['gen_ai.request.model'], tree).toBe('gpt-4o');
    expect(g.attributes['gen_ai.provider.name'], tree).toBe('openai');
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(sent.usage?.input);
    expect(g.attributes['gen_ai.usage.output_tokens'], tree).toBe(sent.usage?.output);
    expect(g.attributes['gen_ai.usage.cost'] as number, tree).toBeCloseTo(sent.usage!.totalCost!, 12);
    expect(g.status.code).not.toBe(StatusCode.ERROR);
    const input = expectMessages(g.attributes['gen_ai.input.messages'], tree);
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
    expect(input[1]!.parts).toEqual([{ type: 'text', content: 'What is the capital of France?' }]);
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.role).toBe('assistant');
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'Paris.' });
    // Times keep every digit LiteLLM sent (microseconds), not cut to milliseconds.
    expect(g.startNs, tree).toBe(isoToNs(sent.startTime!));
    expect(g.endNs, tree).toBe(isoToNs(sent.endTime!));
  });

  it('streaming: completionStartTime becomes gen_ai.response.time_to_first_chunk', async () => {
    const s = scenario('streaming');
    expect(s.traceId).toMatch(/^[0-9a-f]{32}$/);
    const { root, gens, tree } = await fetchTrace('streaming', s.traceId, s.traceName, 1);
    expect(root.traceId).toBe(s.traceId);
    const g = gens[0]!;
    const sent = sentGenerations(s.traceId)[0]!;
    expect(g.name).toBe('chat gpt-4o-mini');
    expect(sent.completionStartTime).toBeDefined();
    const expected = seconds(sent.completionStartTime!) - seconds(sent.startTime!);
    const ttfc = g.attributes['gen_ai.response.time_to_first_chunk'];
    expect(typeof ttfc, tree).toBe('number');
    expect(ttfc as number).toBeCloseTo(expected, 3);
    expect(ttfc as number).toBeLessThan(Number(g.endNs - g.startNs) / 1e9);
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: s.output });
  });

  it('tool calls: the response tool call becomes a tool_call part of gen_ai.output.messages', async () => {
    const s = scenario('tools');
    const { gens, tree } = await fetchTrace('tools', s.traceId, s.traceName, 1);
    const g = gens[0]!;
    expect(g.name).toBe('chat gpt-4o');
    expectToolCallPart(g.attributes['gen_ai.output.messages'], s.toolCall as { id: string; name: string; arguments: string }, tree);
  });

  it('failure: level ERROR becomes span status ERROR with the message, and error.type', async () => {
    const s = scenario('failure');
    const { gens, tree } = await fetchTrace('failure', s.traceId, s.traceName, 1);
    const g = gens[0]!;
    const sent = sentGenerations(s.traceId)[0]!;
    expect(sent.level).toBe('ERROR');
    expect(g.name).toBe('chat gpt-4o-mini');
    expect(g.status.code, tree).toBe(StatusCode.ERROR);
    expect(g.status.message).toBe(sent.statusMessage);
    expect(g.status.message).toContain(String(s.message));
    expect(typeof g.attributes['error.type'], tree).toBe('string');
    expect(String(g.attributes['error.type']).length).toBeGreaterThan(0);
  });

  it('embedding: an "embeddings text-embedding-3-small" CLIENT span', async () => {
    const s = scenario('embedding');
    const { gens, tree } = await fetchTrace('embedding', s.traceId, s.traceName, 1);
    const g = gens[0]!;
    const sent = sentGenerations(s.traceId)[0]!;
    expect(g.name, tree).toBe('embeddings text-embedding-3-small');
    expect(g.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(g.attributes['gen_ai.request.model']).toBe('text-embedding-3-small');
    expect(g.attributes['gen_ai.provider.name']).toBe('openai');
    expect(g.attributes['gen_ai.usage.input_tokens']).toBe(sent.usage?.input);
  });

  it('metadata controls: trace name/user/session/tags/metadata, generation id, parent_observation_id', async () => {
    const s = scenario('metadata');
    const { root, gens, tree } = await fetchTrace('metadata', s.traceId, s.traceName, 2);
    expect(root.attributes['user.id'], tree).toBe(s.userId);
    expect(root.attributes['session.id'], tree).toBe(s.sessionId);
    const tags = jsonAttr(root.attributes['langfuse.trace.tags']);
    expect(Array.isArray(tags) ? [...(tags as string[])].sort() : tags, tree).toEqual([...(s.tags as string[])].sort());
    expect(root.attributes['langfuse.trace.metadata.team'], tree).toBe('observability');
    expect(root.attributes['langfuse.trace.metadata.run'], tree).toBe(run);
    // generation_id → deterministic span id; it is a child of the root.
    const planner = gens.find((g) => g.spanId === observationSpanId(String(s.parentGenerationId)));
    expect(planner, tree).toBeDefined();
    expect(planner!.parentSpanId).toBe(root.spanId);
    expect(planner!.name).toBe('chat gpt-4o');
    // The second call continued the trace (existing_trace_id) under the first generation.
    const child = gens.find((g) => g !== planner);
    expect(child!.parentSpanId, tree).toBe(planner!.spanId);
    const sent = sentGenerations(s.traceId);
    expect(sent.map((e) => e.name).sort()).toEqual(['answer', 'planner']);
    expect(sent.find((e) => e.name === 'answer')!.parentObservationId).toBe(s.parentGenerationId);
  });

  it('several calls with the same trace_id: one root, three generation children', async () => {
    const s = scenario('multi');
    const { root, gens, spans, tree } = await fetchTrace('multi', s.traceId, s.traceName, 3);
    for (const g of gens) {
      expect(g.parentSpanId, tree).toBe(root.spanId);
      expect(g.name).toBe('chat gpt-4o-mini');
    }
    const sent = sentGenerations(s.traceId);
    expect(new Set(gens.map((g) => g.spanId))).toEqual(new Set(sent.map((e) => observationSpanId(e.id!))));
    expect(spans).toHaveLength(4);
  });
});
