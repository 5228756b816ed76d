/**
 * What the current Langfuse clients send, recorded with a stand-in Langfuse server (no bridge,
 * no Jaeger): the current LiteLLM with its `langfuse` and `langfuse_otel` callbacks, the
 * Langfuse Python SDK 4.x and the JS SDK v5. These are the facts the bridge's OTLP receiver and
 * converter are built on (README "Which client uses which path"); the test fails when a client
 * release changes them.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_PUBLIC_KEY, E2E_SECRET_KEY } from './helpers/bridge.js';
import { startCaptureServer, type RecordedRequest, type StubServer } from './helpers/http-stubs.js';
import { runJsV5Scenario } from './helpers/langfuse-js-v5.js';
import { flattenTraces, type OtlpTracesData } from './helpers/otlp.js';
import { runLangfuseSdkScenarios, runLitellmScenarios, type LitellmResult, type SentSpan } from './helpers/python.js';

const OTLP_PATH = '/api/public/otel/v1/traces';
const AUTH = 'Basic ' + Buffer.from(`${E2E_PUBLIC_KEY}:${E2E_SECRET_KEY}`).toString('base64');
const keys = { publicKey: E2E_PUBLIC_KEY, secretKey: E2E_SECRET_KEY };

const paths = (reqs: RecordedRequest[]): string[] => [...new Set(reqs.map((r) => `${r.method} ${r.url.split('?')[0]}`))].sort();
const spansOf = (r: { otlp: Array<{ spans: SentSpan[] }> }): SentSpan[] => r.otlp.flatMap((e) => e.spans);
const hasGenAi = (s: SentSpan): boolean => Object.keys(s.attributes).some((k) => k.startsWith('gen_ai.'));

describe('what current clients send to LANGFUSE_HOST', () => {
  const servers: StubServer[] = [];
  const run = randomBytes(4).toString('hex');
  const capture = async (): Promise<StubServer> => {
    const s = await startCaptureServer();
    servers.push(s);
    return s;
  };

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  describe('LiteLLM (current) with success_callback ["langfuse"]', () => {
    let server: StubServer;
    let result: LitellmResult;
    beforeAll(async () => {
      server = await capture();
      result = await runLitellmScenarios({ venv: 'current', langfuseHost: server.url, ...keys, run, only: ['plain', 'failure', 'metadata'] });
    });

    it('checks the project, then POSTs OTLP/protobuf to /api/public/otel/v1/traces', () => {
      expect(result.errors).toEqual([]);
      expect(result.versions.litellm).not.toBe('1.107.0');
      expect(result.versions.langfuse).toMatch(/^4\./);
      expect(paths(server.requests)).toEqual(['GET /api/public/projects', `POST ${OTLP_PATH}`]);
      const post = server.requests.find((r) => r.url === OTLP_PATH)!;
      expect(post.headers['content-type']).toBe('application/x-protobuf');
      expect(post.headers['content-encoding']).toBeUndefined();
      expect(post.headers.authorization).toBe(AUTH);
      expect(post.headers['x-langfuse-ingestion-version']).toBe('4');
      expect(post.headers['x-langfuse-sdk-name']).toBe('python');
      expect(post.headers['user-agent']).toBe(`litellm/${result.versions.litellm}`);
      expect(result.otlp.every((e) => e.result === 'SUCCESS')).toBe(true);
    });

    it('one parent-less INTERNAL generation span per call, langfuse.* only, no resource', () => {
      const spans = spansOf(result);
      const plain = spans.find((s) => s.traceId === result.scenarios.plain!.traceId)!;
      expect(plain.name).toBe('litellm-completion');
      expect(plain.kind).toBe('INTERNAL');
      expect(plain.parentSpanId).toBe('');
      expect(plain.resource).toEqual({});
      expect(spans.some(hasGenAi)).toBe(false);
      const a = plain.attributes;
      expect(a['langfuse.observation.type']).toBe('generation');
      expect(a['langfuse.observation.model.name']).toBe('gpt-4o');
      expect(JSON.parse(String(a['langfuse.observation.usage_details']))).toMatchObject({ input: 10, output: 20, total: 30 });
      expect(JSON.parse(String(a['langfuse.observation.cost_details'])).total).toBeGreaterThan(0);
      expect(JSON.parse(String(a['langfuse.observation.input'])).messages).toHaveLength(2);
      expect(JSON.parse(String(a['langfuse.observation.output']))).toMatchObject({ role: 'assistant', content: 'Paris.' });
      // A JSON-encoded string, quotes included.
      expect(String(a['langfuse.observation.completion_start_time'])).toMatch(/^"\d{4}-\d\d-\d\dT.*"$/);
      expect(a['langfuse.trace.name']).toBe('litellm-completion');
      const failed = spans.find((s) => s.attributes['langfuse.observation.level'] === 'ERROR')!;
      expect(failed.status.code).toBe('UNSET');
      expect(String(failed.attributes['langfuse.observation.status_message'])).toContain('e2e simulated provider outage');
    });

    it('metadata controls: trace ids and generation ids become hashes, parents are remote', () => {
      const spans = spansOf(result);
      const md = result.scenarios.metadata!;
      const planner = spans.find((s) => s.name === 'planner')!;
      const answer = spans.find((s) => s.name === 'answer')!;
      expect(planner.attributes['user.id']).toBe(md.userId);
      expect(planner.attributes['session.id']).toBe(md.sessionId);
      expect(planner.attributes['langfuse.trace.tags']).toEqual(md.tags);
      expect(planner.attributes['langfuse.trace.metadata.team']).toBe('observability');
      expect(answer.traceId).toBe(planner.traceId);
      expect(answer.parentSpanId).toBe(planner.spanId);
      expect(answer.attributes['langfuse.trace.name']).toBeUndefined();
    });
  });

  describe('LiteLLM (current) with success_callback ["langfuse_otel"]', () => {
    let server: StubServer;
    let result: LitellmResult;
    beforeAll(async () => {
      server = await capture();
      result = await runLitellmScenarios({ venv: 'current', callback: 'langfuse_otel', langfuseHost: server.url, ...keys, run, only: ['plain'] });
    });

    it('POSTs OTLP/protobuf (no project check) with OpenInference llm.* and some langfuse.* attributes', () => {
      expect(result.errors).toEqual([]);
      expect(paths(server.requests)).toEqual([`POST ${OTLP_PATH}`]);
      const post = server.requests[0]!;
      expect(post.headers['content-type']).toBe('application/x-protobuf');
      expect(post.headers.authorization).toBe(AUTH);
      expect(post.headers['x-langfuse-ingestion-version']).toBe('4');
      const spans = spansOf(result).filter((s) => s.traceId === result.scenarios.plain!.traceId);
      expect(spans.map((s) => s.name).sort()).toEqual(['litellm_request', 'raw_gen_ai_request']);
      const req = spans.find((s) => s.name === 'litellm_request')!;
      expect(req.resource['service.name']).toBe('litellm');
      expect(req.attributes['openinference.span.kind']).toBe('LLM');
      expect(req.attributes['llm.model_name']).toBe('gpt-4o');
      expect(req.attributes['llm.provider']).toBe('openai');
      expect(req.attributes['llm.token_count.prompt']).toBe(10);
      expect(req.attributes['langfuse.observation.type']).toBe('generation');
      expect(req.attributes['langfuse.observation.model.name']).toBeUndefined();
      expect(spans.some(hasGenAi)).toBe(false);
    });
  });

  describe('Langfuse Python SDK 4.x', () => {
    it('@observe spans as OTLP/protobuf; scores as a score-create ingestion batch; api.scores.create as POST /api/public/scores', async () => {
      const server = await capture();
      const result = await runLangfuseSdkScenarios({ langfuseHost: server.url, ...keys, run });
      expect(result.errors).toEqual([]);
      expect(paths(server.requests)).toEqual(['POST /api/public/ingestion', `POST ${OTLP_PATH}`, 'POST /api/public/scores']);
      const rest = server.requests.find((r) => r.url === '/api/public/scores')!;
      expect(rest.headers['content-type']).toBe('application/json');
      expect(JSON.parse(rest.body.toString('utf8'))).toMatchObject({ name: 'api-check', value: 1, traceId: result.trace.traceId });
      const post = server.requests.find((r) => r.url === OTLP_PATH)!;
      expect(post.headers['content-type']).toBe('application/x-protobuf');
      expect(post.headers.authorization).toBe(AUTH);
      const spans = spansOf(result);
      const root = spans.find((s) => s.parentSpanId === '')!;
      expect(root.attributes['langfuse.internal.is_app_root']).toBe(true);
      expect(root.resource['langfuse.environment']).toBe('e2e');
      const gen = spans.find((s) => s.spanId === result.observations.answer!.spanId)!;
      expect(gen.attributes['langfuse.observation.type']).toBe('generation');
      expect(gen.attributes['langfuse.observation.model.name']).toBe('gpt-4o');
      const ingestion = JSON.parse(server.requests.find((r) => r.url === '/api/public/ingestion')!.body.toString('utf8')) as {
        batch: Array<{ type: string; body: { name: string; traceId: string } }>;
      };
      expect(ingestion.batch.map((e) => e.type)).toEqual(['score-create', 'score-create']);
      expect(ingestion.batch.every((e) => e.body.traceId === result.trace.traceId)).toBe(true);
    });
  });

  describe('Langfuse JS SDK v5', () => {
    it('OTLP/JSON, chunked, hex ids; @langfuse/client scores as a score-create ingestion batch', async () => {
      const server = await capture();
      const result = await runJsV5Scenario({ baseUrl: server.url, ...keys, run });
      expect(paths(server.requests)).toEqual(['POST /api/public/ingestion', `POST ${OTLP_PATH}`]);
      const scores = JSON.parse(server.requests.find((r) => r.url === '/api/public/ingestion')!.body.toString('utf8')) as {
        batch: Array<{ type: string; body: { observationId?: string } }>;
      };
      expect(scores.batch.map((e) => [e.type, e.body.observationId])).toEqual([['score-create', result.generationSpanId]]);
      const post = server.requests.find((r) => r.url === OTLP_PATH)!;
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['transfer-encoding']).toBe('chunked');
      expect(post.headers.authorization).toBe(AUTH);
      expect(post.headers['x-langfuse-sdk-name']).toBe('javascript');
      const spans = flattenTraces(JSON.parse(post.body.toString('utf8')) as OtlpTracesData);
      expect(spans.every((s) => s.traceId === result.traceId)).toBe(true);
      expect(spans.map((s) => s.spanId).sort()).toEqual([result.rootSpanId, result.generationSpanId, result.eventSpanId].sort());
      const gen = spans.find((s) => s.spanId === result.generationSpanId)!;
      expect(gen.attributes['langfuse.observation.type']).toBe('generation');
      expect(gen.attributes['langfuse.environment']).toBe('e2e');
      expect(gen.attributes['user.id']).toBe(result.userId);
    });
  });
});
