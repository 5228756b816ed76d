/**
 * The Langfuse JS SDK v5 (@langfuse/tracing + @langfuse/otel, used from this test process;
 * OTLP/JSON to /api/public/otel/v1/traces) pointed at the bridge: a root span with a generation
 * and an event inside propagateAttributes, and a score from @langfuse/client (a score-create
 * ingestion event). Checked through Jaeger against the ids the SDK chose.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMessages } from './helpers/genai-facts.js';
import { waitForTrace } from './helpers/jaeger.js';
import { runJsV5Scenario, type JsV5Result } from './helpers/langfuse-js-v5.js';
import { SpanKind, renderTree, type FlatSpan } from './helpers/otlp.js';
import { recordTree, resetReport } from './helpers/report.js';
import { startStack, type Stack } from './helpers/stack.js';

const REPORT = 'js-sdk-v5';

describe('Langfuse JS SDK v5 → bridge → Jaeger', () => {
  let stack: Stack;
  let result: JsV5Result;
  let spans: FlatSpan[];
  let tree: string;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    stack = await startStack('js-v5', 1000);
    const { proxy, bridge } = stack;
    result = await runJsV5Scenario({ baseUrl: proxy.url, publicKey: bridge.publicKey, secretKey: bridge.secretKey, run });
    const ids = [result.rootSpanId, result.generationSpanId, result.eventSpanId];
    spans = await waitForTrace(stack.jaeger.queryUrl, result.traceId, {
      until: (got) => ids.every((id) => got.some((g) => g.spanId === id)),
      timeoutMs: 30_000,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nrequests: ${stack.proxy.requests.map((r) => `${r.method} ${r.url} → ${r.status}`).join(', ')}`);
    });
    recordTree(REPORT, 'v5', result.traceId, spans);
    tree = renderTree(spans);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const byId = (id: string): FlatSpan => {
    const found = spans.find((s) => s.spanId === id);
    expect(found, `span ${id} in Jaeger\n${tree}`).toBeDefined();
    return found!;
  };

  it('the OTLP/JSON export is answered 200 with JSON, the score batch 207', () => {
    expect(stack.proxy.requests.filter((r) => r.url === '/api/public/ingestion').map((r) => r.status)).toEqual([207]);
    const posts = stack.proxy.requests.filter((r) => r.method === 'POST' && r.url !== '/api/public/ingestion');
    expect(posts.length).toBeGreaterThanOrEqual(1);
    for (const p of posts) {
      expect(p.url).toBe('/api/public/otel/v1/traces');
      expect(p.headers['content-type']).toBe('application/json');
      expect(p.status).toBe(200);
      expect(p.responseHeaders?.['content-type']).toMatch(/^application\/json/);
    }
  });

  it('ids are kept and no span is added: root, generation and event', () => {
    const observations = spans.filter((s) => s.attributes['gen_ai.evaluation.name'] === undefined);
    expect(observations.map((s) => s.spanId).sort(), tree).toEqual([result.rootSpanId, result.generationSpanId, result.eventSpanId].sort());
    const root = byId(result.rootSpanId);
    expect(root.parentSpanId, tree).toBe('');
    expect(root.kind, tree).toBe(SpanKind.INTERNAL);
    expect(byId(result.generationSpanId).parentSpanId, tree).toBe(root.spanId);
    const ev = byId(result.eventSpanId);
    expect(ev.parentSpanId, tree).toBe(root.spanId);
    expect(ev.endNs - ev.startNs, `the event has zero duration\n${tree}`).toBeLessThanOrEqual(1n);
  });

  it('the generation is a "chat gpt-4o" CLIENT span with model, tokens, cost, messages and time to first chunk', () => {
    const g = byId(result.generationSpanId);
    expect(g.kind, tree).toBe(SpanKind.CLIENT);
    expect(g.name, tree).toBe('chat gpt-4o');
    expect(g.attributes['gen_ai.request.model'], tree).toBe('gpt-4o');
    expect(g.attributes['gen_ai.provider.name'], tree).toBe('openai');
    expect(g.attributes['gen_ai.request.temperature'], tree).toBe(0.2);
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(14);
    expect(g.attributes['gen_ai.usage.output_tokens'], tree).toBe(2);
    expect(g.attributes['gen_ai.usage.cost'] as number, tree).toBeCloseTo(0.00005, 12);
    const input = expectMessages(g.attributes['gen_ai.input.messages'], tree);
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'Paris.' });
    const ttfc = g.attributes['gen_ai.response.time_to_first_chunk'];
    expect(typeof ttfc, tree).toBe('number');
    expect(ttfc as number).toBeCloseTo((result.completionStartTime.getTime() * 1e6 - Number(g.startNs)) / 1e9, 2);
  });

  it('trace attributes from propagateAttributes and the environment reach the root span', () => {
    const root = byId(result.rootSpanId);
    expect(root.attributes['langfuse.trace.name'], tree).toBe(result.traceName);
    expect(root.attributes['user.id'], tree).toBe(result.userId);
    expect(root.attributes['session.id'], tree).toBe(result.sessionId);
    expect([...((root.attributes['langfuse.trace.tags'] as string[] | undefined) ?? [])].sort(), tree).toEqual([...result.tags].sort());
    expect(root.attributes['langfuse.trace.metadata.team'], tree).toBe('observability');
    expect(root.attributes['langfuse.environment'] ?? root.resource['deployment.environment.name'], tree).toBe('e2e');
  });

  it('the score becomes an evaluation span under the generation', async () => {
    const all = await waitForTrace(stack.jaeger.queryUrl, result.traceId, {
      until: (got) => got.some((s) => s.attributes['gen_ai.evaluation.name'] !== undefined),
      timeoutMs: 30_000,
    });
    recordTree(REPORT, 'v5 + score', result.traceId, all);
    const withScore = renderTree(all);
    const evals = all.filter((s) => s.attributes['gen_ai.evaluation.name'] !== undefined);
    expect(evals.map((s) => s.attributes['gen_ai.evaluation.name']), withScore).toEqual([result.score.name]);
    expect(evals[0]!.parentSpanId, withScore).toBe(result.generationSpanId);
    expect(evals[0]!.attributes['gen_ai.evaluation.score.value'], withScore).toBe(result.score.value);
  });
});
