/**
 * Issue 10 (5): LiteLLM 1.103.11 (its `langfuse` callback, Langfuse Python SDK v2) into the
 * bridge with two destinations from a BRIDGE_CONFIG file: two Jaeger v2 instances, each on its
 * own free ports (scripts/e2e/jaeger-test.yaml takes every port from the environment), one with
 * the `genai` mapping and one with the `langfuse` mapping. Each Jaeger gets the same trace (same
 * trace and span ids) with its own mapping's attributes, and only those.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type Bridge } from './helpers/bridge.js';
import { startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { SpanKind, jsonAttr, observationSpanId, otelTraceId, renderTree, rootSpanId, type FlatSpan } from './helpers/otlp.js';
import { runLitellmScenarios, type LitellmResult } from './helpers/python.js';
import { recordTree, resetReport } from './helpers/report.js';

const REPORT = 'two-destinations';

describe('LiteLLM → bridge → two Jaegers, genai and langfuse mappings', () => {
  let genaiJaeger: Jaeger;
  let langfuseJaeger: Jaeger;
  let bridge: Bridge;
  let configDir: string;
  let result: LitellmResult;
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    [genaiJaeger, langfuseJaeger] = await Promise.all([startJaeger('jaeger-genai'), startJaeger('jaeger-langfuse')]);
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-e2e-config-'));
    const config = path.join(configDir, 'bridge.yaml');
    fs.writeFileSync(
      config,
      [
        'destinations:',
        '  - name: jaeger-genai',
        '    type: otlp',
        `    endpoint: ${genaiJaeger.otlpHttpUrl}`,
        '    mapping: genai',
        '  - name: jaeger-langfuse',
        '    type: otlp',
        `    endpoint: ${langfuseJaeger.otlpHttpUrl}`,
        '    mapping: langfuse',
        '',
      ].join('\n'),
    );
    // OTEL_EXPORTER_OTLP_ENDPOINT points nowhere: only the file's destinations may receive spans.
    // 3 s idle: LiteLLM's client flushes every second (see litellm.test.ts).
    bridge = await startBridge({ otlpEndpoint: 'http://127.0.0.1:9', name: 'bridge-two-destinations', traceIdleMs: 3000, env: { BRIDGE_CONFIG: config } });
    result = await runLitellmScenarios({ langfuseHost: bridge.url, publicKey: bridge.publicKey, secretKey: bridge.secretKey, run, only: ['metadata'] });
  });

  afterAll(async () => {
    if (bridge) {
      const exit = await bridge.stop();
      expect(exit, 'bridge exit on SIGTERM').toEqual({ code: 0, signal: null });
    }
    await Promise.all([genaiJaeger?.stop(), langfuseJaeger?.stop()]);
    if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
  });

  const scenario = () => {
    const s = result.scenarios['metadata'];
    if (s === undefined) throw new Error(`scenario metadata did not run: ${JSON.stringify(result.errors)}`);
    return s;
  };

  /** The trace in one Jaeger once it has its root and both generations (recorded in the report under `label`). */
  async function fetchTrace(jaeger: Jaeger, label?: string): Promise<{ spans: FlatSpan[]; root: FlatSpan; planner: FlatSpan; answer: FlatSpan; tree: string }> {
    const s = scenario();
    const traceId = otelTraceId(s.traceId);
    const spans = await waitForTrace(jaeger.queryUrl, traceId, { until: (x) => x.length >= 3 && x.some((span) => span.parentSpanId === ''), timeoutMs: 30_000 });
    if (label !== undefined) recordTree(REPORT, label, traceId, spans);
    const tree = renderTree(spans);
    expect(spans, tree).toHaveLength(3);
    const root = spans.find((span) => span.parentSpanId === '')!;
    const planner = spans.find((span) => span.spanId === observationSpanId(String(s['parentGenerationId'])));
    const answer = spans.find((span) => span !== root && span !== planner);
    expect(root.spanId, tree).toBe(rootSpanId(s.traceId));
    expect(planner, tree).toBeDefined();
    expect(planner!.parentSpanId, tree).toBe(root.spanId);
    expect(answer!.parentSpanId, tree).toBe(planner!.spanId);
    for (const span of spans) expect(span.resource['service.name'], tree).toBe('litellm');
    return { spans, root, planner: planner!, answer: answer!, tree };
  }

  it('LiteLLM talks to the bridge as to Langfuse: every batch accepted', () => {
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.versions).toEqual({ litellm: '1.103.11', langfuse: '2.60.10' });
    expect(result.ingestion.length).toBeGreaterThanOrEqual(1);
    for (const post of result.ingestion) {
      expect(post.status).toBe(207);
      expect(post.errors).toEqual([]);
    }
  });

  it('the genai Jaeger has the trace with GenAI semantic-convention attributes', async () => {
    const s = scenario();
    const { spans, root, planner, answer, tree } = await fetchTrace(genaiJaeger, 'genai mapping');
    expect(root.name, tree).toBe(s.traceName);
    expect(root.attributes['langfuse.trace.id'], tree).toBe(s.traceId);
    expect(root.attributes['user.id'], tree).toBe(s['userId']);
    expect(root.attributes['session.id'], tree).toBe(s['sessionId']);
    for (const generation of [planner, answer]) {
      expect(generation.kind, tree).toBe(SpanKind.CLIENT);
      expect(generation.name, tree).toBe('chat gpt-4o');
      expect(generation.attributes['gen_ai.operation.name'], tree).toBe('chat');
      expect(generation.attributes['gen_ai.request.model'], tree).toBe('gpt-4o');
      expect(generation.attributes['gen_ai.provider.name'], tree).toBe('openai');
      expect(typeof generation.attributes['gen_ai.usage.input_tokens'], tree).toBe('number');
      expect(Array.isArray(jsonAttr(generation.attributes['gen_ai.input.messages'])), tree).toBe(true);
    }
    // Only the genai mapping's attributes: none of the langfuse preset's OTLP-for-Langfuse ones.
    const langfuseOnly = ['langfuse.observation.usage_details', 'langfuse.observation.cost_details'];
    for (const span of spans) for (const key of langfuseOnly) expect(span.attributes[key], `${key} on ${span.name}\n${tree}`).toBeUndefined();
  });

  it('the langfuse Jaeger has the same trace with the langfuse.* attributes Langfuse v4 reads', async () => {
    const s = scenario();
    const genai = await fetchTrace(genaiJaeger);
    const { spans, root, planner, answer, tree } = await fetchTrace(langfuseJaeger, 'langfuse mapping');
    // The same trace and span ids in both backends: one trace, two views.
    expect(spans.map((span) => span.spanId).sort()).toEqual(genai.spans.map((span) => span.spanId).sort());
    expect(root.name, tree).toBe(s.traceName);
    expect(planner.name, tree).toBe('planner');
    expect(answer.name, tree).toBe('answer');
    // Trace context on every span, as Langfuse v4 reads it from any observation.
    for (const span of spans) {
      expect(span.attributes['langfuse.trace.name'], `${span.name}\n${tree}`).toBe(s.traceName);
      expect(span.attributes['user.id'], `${span.name}\n${tree}`).toBe(s['userId']);
      expect(span.attributes['session.id'], `${span.name}\n${tree}`).toBe(s['sessionId']);
      expect(span.attributes['langfuse.trace.metadata.team'], `${span.name}\n${tree}`).toBe('observability');
      expect([...(span.attributes['langfuse.trace.tags'] as string[])].sort(), `${span.name}\n${tree}`).toEqual([...(s['tags'] as string[])].sort());
    }
    expect(root.attributes['langfuse.observation.type'], tree).toBe('span');
    for (const generation of [planner, answer]) {
      expect(generation.kind, tree).toBe(SpanKind.INTERNAL);
      expect(generation.attributes['langfuse.observation.type'], tree).toBe('generation');
      expect(generation.attributes['langfuse.observation.model.name'], tree).toBe('gpt-4o');
      const usage = jsonAttr(generation.attributes['langfuse.observation.usage_details']) as Record<string, number>;
      expect(typeof usage['input'], tree).toBe('number');
      expect(typeof usage['output'], tree).toBe('number');
      // Only the langfuse mapping's attributes: no GenAI semantic-convention ones.
      expect(Object.keys(generation.attributes).filter((key) => key.startsWith('gen_ai.')), tree).toEqual([]);
    }
  });
});
