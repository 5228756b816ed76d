/**
 * The Langfuse Python SDK 4.x (scripts/e2e/langfuse_sdk_scenarios.py, .e2e-cache/venv-current)
 * pointed at the bridge: `@observe` root span with an `@observe(as_type="generation")` and a
 * second generation, trace attributes through `propagate_attributes`, two scores (which the
 * SDK sends as score-create ingestion events) and one through the REST API (POST /api/public/scores). Checked through Jaeger against the spans the SDK
 * handed to its exporter.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectMessages } from './helpers/genai-facts.js';
import { waitForTrace } from './helpers/jaeger.js';
import { SpanKind, StatusCode, renderTree, type FlatSpan } from './helpers/otlp.js';
import { runLangfuseSdkScenarios, type LangfuseSdkResult } from './helpers/python.js';
import { recordTree, resetReport } from './helpers/report.js';
import { startStack, type Stack } from './helpers/stack.js';

const REPORT = 'langfuse-python-sdk';

describe('Langfuse Python SDK 4.x → bridge → Jaeger', () => {
  let stack: Stack;
  let result: LangfuseSdkResult;
  let spans: FlatSpan[];
  let tree: string;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    stack = await startStack('python-sdk', 2000);
    const { proxy, bridge } = stack;
    result = await runLangfuseSdkScenarios({ langfuseHost: proxy.url, publicKey: bridge.publicKey, secretKey: bridge.secretKey, run });
    const sent = result.otlp.flatMap((e) => e.spans);
    spans = await waitForTrace(stack.jaeger.queryUrl, result.trace.traceId, {
      until: (got) => sent.every((s) => got.some((g) => g.spanId === s.spanId)),
      timeoutMs: 30_000,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}\nrequests: ${stack.proxy.requests.map((r) => `${r.method} ${r.url} → ${r.status}`).join(', ')}`);
    });
    recordTree(REPORT, 'observe', result.trace.traceId, spans);
    tree = renderTree(spans);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const span = (name: 'pipeline' | 'answer' | 'check'): FlatSpan => {
    const id = result.observations[name]!.spanId;
    const found = spans.find((s) => s.spanId === id);
    expect(found, `span ${name} (${id}) in Jaeger\n${tree}`).toBeDefined();
    return found!;
  };

  it('the SDK exports are answered 200, the score batch 207, the REST score 200', () => {
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.versions.langfuse).toMatch(/^4\./);
    const otlp = stack.proxy.requests.filter((r) => r.url === '/api/public/otel/v1/traces');
    expect(otlp.length).toBeGreaterThanOrEqual(1);
    for (const r of otlp) expect(r.status).toBe(200);
    const ingestion = stack.proxy.requests.filter((r) => r.url === '/api/public/ingestion');
    expect(ingestion.map((r) => r.status)).toEqual([207]);
    const rest = stack.proxy.requests.filter((r) => r.url === '/api/public/scores');
    expect(rest.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200']);
    expect(result.scores.find((s) => s.name === 'api-check')?.id, 'the score id the bridge answered').toBeTruthy();
    expect(result.otlp.map((e) => e.result)).toEqual(result.otlp.map(() => 'SUCCESS'));
  });

  it('ids are kept: the @observe root is the trace root, the generations its children, no span added', () => {
    const sent = result.otlp.flatMap((e) => e.spans);
    const observationSpans = spans.filter((s) => s.attributes['gen_ai.evaluation.name'] === undefined);
    expect(observationSpans.map((s) => s.spanId).sort(), tree).toEqual(sent.map((s) => s.spanId).sort());
    const root = span('pipeline');
    expect(root.parentSpanId, tree).toBe('');
    expect(root.kind, tree).toBe(SpanKind.INTERNAL);
    expect(span('answer').parentSpanId, tree).toBe(root.spanId);
    expect(span('check').parentSpanId, tree).toBe(root.spanId);
  });

  it('@observe(as_type="generation") becomes a CLIENT span with model, provider, tokens and cost', () => {
    const g = span('answer');
    const want = result.observations.answer!;
    expect(g.kind, tree).toBe(SpanKind.CLIENT);
    expect(g.name, tree).toMatch(/ gpt-4o$/);
    expect(g.attributes['gen_ai.request.model'], tree).toBe('gpt-4o');
    expect(g.attributes['gen_ai.provider.name'], tree).toBe('openai');
    expect(g.attributes['gen_ai.request.temperature'], tree).toBe(0.2);
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(want.usage!.input);
    expect(g.attributes['gen_ai.usage.output_tokens'], tree).toBe(want.usage!.output);
    expect(g.attributes['gen_ai.usage.cost'] as number, tree).toBeCloseTo(want.cost!.total!, 12);
    expect(g.attributes['langfuse.observation.metadata.step'], tree).toBe('answer');
  });

  it('an @observe generation called with a message list is a chat: "chat gpt-4o" with gen_ai.input.messages', () => {
    // @observe records the call's arguments as {"args": [messages], "kwargs": {}}.
    const g = span('answer');
    expect(g.name, `${tree}\ninput: ${String(g.attributes['langfuse.observation.input'])}`).toBe('chat gpt-4o');
    const input = expectMessages(g.attributes['gen_ai.input.messages'], tree);
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
  });

  it('the manual generation keeps its messages, level WARNING and status message', () => {
    const g = span('check');
    expect(g.name, tree).toBe('chat gpt-4o-mini');
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(8);
    expect(g.attributes['langfuse.observation.level'], tree).toBe('WARNING');
    expect(g.attributes['langfuse.observation.status_message'], tree).toBe('slow answer');
    expect(g.status.code, tree).not.toBe(StatusCode.ERROR);
    const input = expectMessages(g.attributes['gen_ai.input.messages'], tree);
    expect(input[0]!.role).toBe('user');
    const output = expectMessages(g.attributes['gen_ai.output.messages'], tree);
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'Yes.' });
  });

  it('trace attributes (name, user, session, tags, metadata) and environment reach the root span', () => {
    const root = span('pipeline');
    expect(root.attributes['langfuse.trace.name'], tree).toBe(result.trace.traceName);
    expect(root.attributes['user.id'], tree).toBe(result.trace.userId);
    expect(root.attributes['session.id'], tree).toBe(result.trace.sessionId);
    expect([...((root.attributes['langfuse.trace.tags'] as string[] | undefined) ?? [])].sort(), tree).toEqual([...result.trace.tags].sort());
    expect(root.attributes['langfuse.trace.metadata.team'], tree).toBe('observability');
    const env = root.attributes['langfuse.environment'] ?? root.resource['langfuse.environment'] ?? root.resource['deployment.environment.name'];
    expect(env, tree).toBe('e2e');
  });

  it('the scores become evaluation spans: trace and root-span scores under the root, the REST score under its generation', async () => {
    const all = await waitForTrace(stack.jaeger.queryUrl, result.trace.traceId, {
      until: (got) => got.filter((s) => s.attributes['gen_ai.evaluation.name'] !== undefined).length >= 3,
      timeoutMs: 30_000,
    });
    recordTree(REPORT, 'observe + scores', result.trace.traceId, all);
    const withScores = renderTree(all);
    const evals = all.filter((s) => s.attributes['gen_ai.evaluation.name'] !== undefined);
    const byName = new Map(evals.map((e) => [String(e.attributes['gen_ai.evaluation.name']), e]));
    expect([...byName.keys()].sort(), withScores).toEqual(['api-check', 'quality', 'verdict']);
    const root = span('pipeline');
    expect(byName.get('quality')!.parentSpanId, `quality under the root\n${withScores}`).toBe(root.spanId);
    expect(byName.get('verdict')!.parentSpanId, `verdict under the root\n${withScores}`).toBe(root.spanId);
    expect(byName.get('api-check')!.parentSpanId, `api-check under "check"\n${withScores}`).toBe(span('check').spanId);
    expect(byName.get('quality')!.attributes['gen_ai.evaluation.score.value'], withScores).toBe(0.9);
    expect(byName.get('api-check')!.attributes['gen_ai.evaluation.score.value'], withScores).toBe(1);
  });
});
