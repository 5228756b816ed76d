/**
 * The Langfuse JS SDK v3 (npm `langfuse`, used from this test process) pointed at the bridge:
 * nested spans/generations, an event and scores in one flush; updates that arrive in later
 * flushes; and the SDK's own retry after the real bridge answered 503 (spool over
 * BRIDGE_SPOOL_MAX_BYTES). Traces are checked through Jaeger's HTTP API.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Langfuse } from 'langfuse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postIngestion, startBridge, type Bridge } from './helpers/bridge.js';
import { startInterceptingProxy, type StubServer } from './helpers/http-stubs.js';
import { startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import {
  SpanKind,
  isoToNs,
  jsonAttr,
  observationSpanId,
  otelTraceId,
  renderTree,
  rootSpanId,
  scoreSpanId,
  type FlatSpan,
} from './helpers/otlp.js';
import { sleep } from './helpers/process.js';
import { recordTree, resetReport } from './helpers/report.js';

const REPORT = 'js-sdk';

function client(bridge: Bridge, baseUrl = bridge.url, extra: Partial<ConstructorParameters<typeof Langfuse>[0]> = {}): Langfuse {
  return new Langfuse({
    publicKey: bridge.publicKey,
    secretKey: bridge.secretKey,
    baseUrl,
    // Flush only when the test says so.
    flushAt: 1000,
    flushInterval: 600_000,
    ...extra,
  });
}

function byName(spans: FlatSpan[], name: string, tree: string): FlatSpan {
  const found = spans.filter((s) => s.name === name);
  expect(found, `exactly one span named ${name}\n${tree}`).toHaveLength(1);
  return found[0]!;
}

/**
 * Events and scores have zero duration. Jaeger's memory store returns a span exported with
 * end == start as end = start + 1 ns (checked against Jaeger directly with a hand-made span),
 * so up to 1 ns is accepted.
 */
function expectZeroDuration(span: FlatSpan): void {
  expect(span.endNs - span.startNs, `${span.name} has zero duration`).toBeLessThanOrEqual(1n);
  expect(span.endNs >= span.startNs).toBe(true);
}

describe('Langfuse JS SDK v3 → bridge → Jaeger', () => {
  let jaeger: Jaeger;
  let bridge: Bridge;

  beforeAll(async () => {
    resetReport(REPORT);
    jaeger = await startJaeger('jaeger-js');
    bridge = await startBridge({ otlpEndpoint: jaeger.otlpHttpUrl, name: 'bridge-js' });
  });

  afterAll(async () => {
    if (bridge) {
      const exit = await bridge.stop();
      expect(exit, 'bridge exit on SIGTERM').toEqual({ code: 0, signal: null });
    }
    await jaeger?.stop();
  });

  it('nested spans and generations, an event and scores, in one flush', async () => {
    const lf = client(bridge);
    const traceLfId = randomUUID();
    const t0 = Date.now() - 5_000;
    const at = (ms: number): Date => new Date(t0 + ms);
    const trace = lf.trace({
      id: traceLfId,
      name: 'js-nested',
      userId: 'user-js',
      sessionId: 'session-js',
      tags: ['js', 'nested'],
      metadata: { feature: 'search' },
      input: { question: 'Where is the Eiffel tower?' },
      timestamp: at(0),
    });
    const retrieve = trace.span({ name: 'retrieve', startTime: at(10), input: { query: 'eiffel tower' } });
    const gen = retrieve.generation({
      name: 'answer',
      model: 'gpt-4o',
      startTime: at(100),
      completionStartTime: at(350),
      input: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Where is the Eiffel tower?' },
      ],
      modelParameters: { temperature: 0.1 },
    });
    // update() with an explicit endTime (end() would stamp "now").
    gen.update({ output: { role: 'assistant', content: 'In Paris.' }, usage: { input: 21, output: 4 }, endTime: at(900) });
    const event = retrieve.event({ name: 'cache-miss', startTime: at(50), input: { key: 'eiffel' } });
    retrieve.update({ output: { documents: 2 }, endTime: at(950) });
    const genScoreId = randomUUID();
    const traceScoreId = randomUUID();
    gen.score({ id: genScoreId, name: 'relevance', value: 0.9, comment: 'on topic' });
    trace.score({ id: traceScoreId, name: 'user-feedback', value: 1 });
    trace.update({ output: { answer: 'In Paris.' } });
    await lf.flushAsync();
    await lf.shutdownAsync();

    const traceId = otelTraceId(traceLfId);
    expect(traceId).toBe(traceLfId.replace(/-/g, ''));
    const spans = await waitForTrace(jaeger.queryUrl, traceId, {
      until: (s) => s.length >= 6 && s.some((x) => x.parentSpanId === ''),
      timeoutMs: 30_000,
    });
    recordTree(REPORT, 'nested', traceId, spans);
    const tree = renderTree(spans);
    expect(spans, tree).toHaveLength(6); // root, retrieve, generation, event, 2 scores

    const root = spans.find((s) => s.parentSpanId === '')!;
    expect(root.spanId).toBe(rootSpanId(traceLfId));
    expect(root.name).toBe('js-nested');
    expect(root.kind).toBe(SpanKind.INTERNAL);
    expect(root.resource['service.name']).toBe('langfuse');
    expect(root.attributes['langfuse.trace.id']).toBe(traceLfId);
    expect(root.attributes['user.id']).toBe('user-js');
    expect(root.attributes['session.id']).toBe('session-js');
    expect(jsonAttr(root.attributes['langfuse.trace.tags'])).toEqual(['js', 'nested']);
    expect(root.attributes['langfuse.trace.metadata.feature']).toBe('search');
    // The root spans its observations (Langfuse's trace latency): first start to last end; the
    // trace timestamp is kept as an attribute.
    expect(root.startNs, tree).toBe(isoToNs(at(10).toISOString()));
    expect(root.attributes['langfuse.trace.timestamp']).toBe(at(0).toISOString().replace('Z', '000Z'));
    expect(root.endNs, tree).toBe(isoToNs(at(950).toISOString()));

    const span = byName(spans, 'retrieve', tree);
    expect(span.spanId).toBe(observationSpanId(retrieve.id));
    expect(span.parentSpanId).toBe(root.spanId);
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.startNs).toBe(isoToNs(at(10).toISOString()));
    expect(span.endNs).toBe(isoToNs(at(950).toISOString()));

    const g = byName(spans, 'chat gpt-4o', tree);
    expect(g.spanId).toBe(observationSpanId(gen.id));
    expect(g.parentSpanId).toBe(span.spanId);
    expect(g.kind).toBe(SpanKind.CLIENT);
    expect(g.attributes['gen_ai.operation.name']).toBe('chat');
    expect(g.attributes['gen_ai.request.model']).toBe('gpt-4o');
    expect(g.attributes['gen_ai.provider.name']).toBe('openai');
    expect(g.attributes['gen_ai.usage.input_tokens']).toBe(21);
    expect(g.attributes['gen_ai.usage.output_tokens']).toBe(4);
    expect(g.attributes['gen_ai.response.time_to_first_chunk'] as number).toBeCloseTo(0.25, 6);
    const input = jsonAttr(g.attributes['gen_ai.input.messages']) as Array<{ role: string; parts: unknown[] }>;
    expect(input).toEqual([
      { role: 'system', parts: [{ type: 'text', content: 'Answer briefly.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'Where is the Eiffel tower?' }] },
    ]);
    const output = jsonAttr(g.attributes['gen_ai.output.messages']) as Array<{ role: string; parts: unknown[] }>;
    expect(output[0]!.role).toBe('assistant');
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'In Paris.' });

    const ev = byName(spans, 'cache-miss', tree);
    expect(ev.spanId).toBe(observationSpanId(event.id));
    expect(ev.parentSpanId).toBe(span.spanId);
    expect(ev.kind).toBe(SpanKind.INTERNAL);
    expectZeroDuration(ev);

    const scores = spans.filter((s) => 'gen_ai.evaluation.name' in s.attributes);
    expect(scores, tree).toHaveLength(2);
    const relevance = scores.find((s) => s.attributes['gen_ai.evaluation.name'] === 'relevance')!;
    expect(relevance.spanId).toBe(scoreSpanId(genScoreId));
    expect(relevance.parentSpanId).toBe(g.spanId);
    expect(relevance.attributes['gen_ai.evaluation.score.value']).toBe(0.9);
    expectZeroDuration(relevance);
    const feedback = scores.find((s) => s.attributes['gen_ai.evaluation.name'] === 'user-feedback')!;
    expect(feedback.spanId).toBe(scoreSpanId(traceScoreId));
    expect(feedback.parentSpanId).toBe(root.spanId);
    expect(feedback.attributes['gen_ai.evaluation.score.value']).toBe(1);
    expectZeroDuration(feedback);
  });

  it('updates sent in later flushes are merged before export', async () => {
    const lf = client(bridge);
    const traceLfId = `js-updates-${randomBytes(4).toString('hex')}`;
    const trace = lf.trace({ id: traceLfId, name: 'js-updates' });
    const step = trace.span({ name: 'agent-step' });
    const gen = step.generation({
      name: 'llm',
      model: 'gpt-4o-mini',
      input: [{ role: 'user', content: 'Say hi' }],
    });
    await lf.flushAsync(); // flush 1: trace-create, span-create, generation-create (all open)

    // Longer than BRIDGE_TRACE_IDLE_MS: open observations keep the trace from being exported.
    await sleep(800);
    const early = await fetch(`${jaeger.queryUrl}/api/v3/traces/${otelTraceId(traceLfId)}`);
    expect(early.status, 'nothing exported while observations are open').toBe(404);

    gen.update({ modelParameters: { temperature: 0 } });
    await lf.flushAsync(); // flush 2: generation-update
    await sleep(100);
    gen.end({ output: { role: 'assistant', content: 'hi!' }, usage: { input: 3, output: 2 } });
    step.end({ output: 'done' });
    trace.update({ userId: 'late-user', tags: ['updated'], output: 'done' });
    await lf.flushAsync(); // flush 3: generation-update, span-update, trace-create (update)
    await lf.shutdownAsync();

    const traceId = otelTraceId(traceLfId);
    const spans = await waitForTrace(jaeger.queryUrl, traceId, {
      until: (s) => s.length >= 3 && s.some((x) => x.parentSpanId === ''),
      timeoutMs: 30_000,
    });
    recordTree(REPORT, 'updates in later flushes', traceId, spans);
    const tree = renderTree(spans);
    expect(spans, tree).toHaveLength(3);
    const root = spans.find((s) => s.parentSpanId === '')!;
    expect(root.name).toBe('js-updates');
    expect(root.attributes['user.id'], tree).toBe('late-user');
    expect(jsonAttr(root.attributes['langfuse.trace.tags'])).toEqual(['updated']);
    const s = byName(spans, 'agent-step', tree);
    expect(s.parentSpanId).toBe(root.spanId);
    const g = byName(spans, 'chat gpt-4o-mini', tree);
    expect(g.parentSpanId).toBe(s.spanId);
    expect(g.attributes['gen_ai.usage.input_tokens'], tree).toBe(3);
    expect(g.attributes['gen_ai.usage.output_tokens'], tree).toBe(2);
    expect(g.attributes['gen_ai.request.temperature'], 'modelParameters from the 2nd flush').toBe(0);
    const output = jsonAttr(g.attributes['gen_ai.output.messages']) as Array<{ parts: unknown[] }>;
    expect(output[0]!.parts).toContainEqual({ type: 'text', content: 'hi!' });
    expect(g.endNs > g.startNs).toBe(true);
    expect(root.startNs <= s.startNs && root.endNs >= g.endNs && root.endNs >= s.endNs, tree).toBe(true);
  });

  describe('SDK retry after the bridge answered 503 (spool over BRIDGE_SPOOL_MAX_BYTES)', () => {
    let small: Bridge;
    let proxy: StubServer;

    beforeAll(async () => {
      // A 1-byte spool is "full" as soon as it holds anything: while the first trace waits for
      // its idle time (1 s here) the bridge answers 503 with Retry-After.
      small = await startBridge({
        otlpEndpoint: jaeger.otlpHttpUrl,
        name: 'bridge-js-small-spool',
        traceIdleMs: 1000,
        env: { BRIDGE_SPOOL_MAX_BYTES: '1' },
      });
      // Transparent recording proxy: every answer comes from the real bridge.
      proxy = await startInterceptingProxy(small.url, () => undefined);
    });

    afterAll(async () => {
      await proxy?.close();
      await small?.stop();
    });

    it('the SDK resends the same batch after a 503 and the trace arrives once', async () => {
      // 1. Fill the spool with a first trace (accepted: the spool was empty).
      const blockerId = `blocker-${randomBytes(4).toString('hex')}`;
      const now = new Date().toISOString();
      const first = await postIngestion(small.url, small.authHeader, {
        batch: [{ id: randomUUID(), type: 'trace-create', timestamp: now, body: { id: blockerId, name: 'blocker', timestamp: now } }],
      });
      expect(first.status).toBe(207);
      const ready = await fetch(`${small.url}/api/public/ready`);
      expect(ready.status, 'not ready while the spool is over its limit').toBe(503);

      // 2. The SDK's batch meets a full spool (503), waits fetchRetryDelay and resends.
      const lf = client(small, proxy.url, { fetchRetryDelay: 1500, fetchRetryCount: 3 });
      const traceLfId = randomBytes(16).toString('hex');
      const trace = lf.trace({ id: traceLfId, name: 'js-retry' });
      trace.generation({ name: 'g', model: 'gpt-4o', input: 'ping', output: 'pong' }).end();
      await lf.flushAsync();
      await lf.shutdownAsync();

      const posts = proxy.requests.filter((r) => r.method === 'POST' && r.url.startsWith('/api/public/ingestion'));
      const statuses = posts.map((p) => p.status);
      // 503 while the spool is full (normally once: the blocker is exported ~1 s later and the
      // SDK retries after 1.5 s), then 207.
      expect(statuses.length, statuses.join(',')).toBeGreaterThanOrEqual(2);
      expect(statuses.slice(0, -1).every((s) => s === 503), statuses.join(',')).toBe(true);
      expect(statuses.at(-1)).toBe(207);
      expect(Number(posts[0]!.responseHeaders?.['retry-after']), 'the 503 carries Retry-After').toBeGreaterThan(0);
      for (const p of posts.slice(1)) expect(p.body.equals(posts[0]!.body), 'each retry resends the same batch').toBe(true);
      expect(posts[0]!.headers['content-type']).toContain('application/json');

      const spans = await waitForTrace(jaeger.queryUrl, otelTraceId(traceLfId), {
        until: (s) => s.length >= 2 && s.some((x) => x.parentSpanId === ''),
        timeoutMs: 30_000,
      });
      recordTree(REPORT, 'retry after 503', otelTraceId(traceLfId), spans);
      const tree = renderTree(spans);
      expect(spans, tree).toHaveLength(2);
      expect(spans.find((s) => s.parentSpanId === '')!.name).toBe('js-retry');
      expect(spans.find((s) => s.kind === SpanKind.CLIENT)!.name).toBe('text_completion gpt-4o');
      const blocker = await waitForTrace(jaeger.queryUrl, otelTraceId(blockerId));
      expect(blocker.map((s) => s.name)).toEqual(['blocker']);
    });
  });
});
