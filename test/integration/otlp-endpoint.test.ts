// Issue 9: POST /api/public/otel/v1/traces and POST /api/public/scores through HTTP (supertest on
// the service's app), exported for real to a fake OTLP collector. Requests are built by the
// official OpenTelemetry JS SDK and serializers, as a Langfuse SDK or LiteLLM would send them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';

import { loadServiceConfig } from '../../src/config/service-config.js';
import { createSilentLogger } from '../helpers/silent-logger.js';
import { createService, type Service } from '../../src/service.js';
import { postOtlp } from '../helpers/otlp-post.js';
import { startFakeCollector, type CollectedSpan, type CollectorBehaviour, type FakeCollector } from '../helpers/fake-collector.js';

const AUTH = `Basic ${Buffer.from('pk-lf-test:sk-lf-test').toString('base64')}`;

let collector: FakeCollector | undefined;
let service: Service | undefined;

afterEach(async () => {
  await service?.shutdown();
  await collector?.close();
  service = undefined;
  collector = undefined;
});

async function start(env: Record<string, string> = {}, behaviour: CollectorBehaviour = { kind: 'ok' }): Promise<{ service: Service; collector: FakeCollector; replayed: number }> {
  collector = await startFakeCollector(behaviour);
  const config = loadServiceConfig({
    BRIDGE_STORE: 'memory',
    BRIDGE_TRACE_IDLE_MS: '100',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url,
    LANGFUSE_PUBLIC_KEY: 'pk-lf-test',
    LANGFUSE_SECRET_KEY: 'sk-lf-test',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '1000',
    BRIDGE_METRICS: 'false',
    ...env,
  });
  service = createService(config, { logger: createSilentLogger(), tickMillis: 10, initialBackoffMillis: 5, maxBackoffMillis: 20 });
  const replayed = await service.start();
  return { service, collector, replayed };
}

/** POSTs an OTLP body with the test keys (or the given headers). */
const post = (app: Service['app'], contentType: string, body: Buffer | string, headers: Record<string, string> = { Authorization: AUTH }) =>
  postOtlp(app, contentType, body, headers);

const json = (res: { body: Buffer }) => JSON.parse(res.body.toString('utf8')) as unknown;

async function waitForSpans(c: FakeCollector, count: number, timeoutMillis = 5000): Promise<CollectedSpan[]> {
  const deadline = Date.now() + timeoutMillis;
  while (Date.now() < deadline) {
    if (c.spans().length >= count) return c.spans();
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`expected ${count} spans, got ${c.spans().length}`);
}

/** Spans made by the OpenTelemetry SDK: a LiteLLM-style root generation and a gen_ai child. */
function litellmSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'litellm' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const langfuse = provider.getTracer('langfuse-sdk', '4.18.0');
  const root = langfuse.startSpan('litellm-acompletion', { attributes: ROOT_ATTRIBUTES }, ROOT_CONTEXT);
  const openai = provider.getTracer('opentelemetry.instrumentation.openai', '0.40.0');
  const child = openai.startSpan(
    'chat gpt-3.5-turbo',
    { kind: SpanKind.CLIENT, attributes: { 'gen_ai.system': 'openai', 'gen_ai.usage.prompt_tokens': 10, 'gen_ai.request.model': 'gpt-3.5-turbo' } },
    trace.setSpan(ROOT_CONTEXT, root),
  );
  child.setStatus({ code: SpanStatusCode.OK });
  child.end();
  root.end();
  return exporter.getFinishedSpans();
}

const ROOT_ATTRIBUTES: Attributes = {
  'langfuse.internal.as_root': true,
  'langfuse.observation.type': 'generation',
  'langfuse.observation.model.name': 'gpt-3.5-turbo',
  'langfuse.observation.input': JSON.stringify({ messages: [{ role: 'user', content: 'Hello!' }] }),
  'langfuse.observation.output': JSON.stringify({ role: 'assistant', content: 'Hi there!' }),
  'langfuse.observation.usage_details': JSON.stringify({ input: 10, output: 20, total: 30 }),
  'langfuse.observation.cost_details': JSON.stringify({ total: 3.5e-5 }),
  'langfuse.trace.name': 'litellm-acompletion',
  'session.id': 'session-1',
  'user.id': 'user-1',
};

function checkExported(spans: CollectedSpan[], sent: ReadableSpan[]): void {
  const [childSent, rootSent] = sent;
  expect(spans).toHaveLength(2);
  const root = spans.find((s) => s.spanId === rootSent!.spanContext().spanId)!;
  const child = spans.find((s) => s.spanId === childSent!.spanContext().spanId)!;
  // Ids as sent; the client's root has no parent and no synthetic root was added.
  expect(root.traceId).toBe(rootSent!.spanContext().traceId);
  expect(root.parentSpanId).toBeUndefined();
  expect(root).toMatchObject({ name: 'chat gpt-3.5-turbo', kind: 3 });
  expect(root.attributes).toMatchObject({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-3.5-turbo',
    'gen_ai.usage.input_tokens': 10,
    'gen_ai.usage.output_tokens': 20,
    'gen_ai.usage.cost': 3.5e-5,
    'langfuse.trace.name': 'litellm-acompletion',
    'session.id': 'session-1',
    'user.id': 'user-1',
  });
  expect(JSON.parse(root.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hello!' }] }]);
  expect(root.resource['service.name']).toBe('litellm');
  // The pass-through child: as sent, under the root, legacy names normalised, scope kept.
  expect(child).toMatchObject({ name: 'chat gpt-3.5-turbo', kind: 3, traceId: root.traceId, parentSpanId: root.spanId, status: { code: 1 } });
  expect(child.scope).toEqual({ name: 'opentelemetry.instrumentation.openai', version: '0.40.0' });
  expect(child.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.usage.input_tokens': 10 });
  expect(child.attributes['gen_ai.system']).toBeUndefined();
}

describe('POST /api/public/otel/v1/traces', () => {
  it('protobuf: 200 with an empty ExportTraceServiceResponse; the spans are exported with their ids', async () => {
    const { service, collector } = await start();
    const sent = litellmSpans();
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(sent)!);
    const res = await post(service.app, 'application/x-protobuf', body);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-protobuf/);
    expect(res.body).toEqual(Buffer.alloc(0));
    checkExported(await waitForSpans(collector, 2), sent);
  });

  it('JSON, gzip-compressed: 200 with {} in JSON', async () => {
    const { service, collector } = await start();
    const sent = litellmSpans();
    const body = gzipSync(Buffer.from(JsonTraceSerializer.serializeRequest(sent)!));
    const res = await post(service.app, 'application/json', body, { Authorization: AUTH, 'Content-Encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(json(res)).toEqual({});
    checkExported(await waitForSpans(collector, 2), sent);
  });

  it('a resend is answered 200 and exported once', async () => {
    const { service, collector } = await start();
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(litellmSpans())!);
    for (let i = 0; i < 2; i++) {
      const res = await post(service.app, 'application/x-protobuf', body);
      expect(res.status).toBe(200);
    }
    await waitForSpans(collector, 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(collector.spans()).toHaveLength(2);
  });

  it('partial success: invalid spans are counted and named, the valid ones exported (protobuf and JSON)', async () => {
    const { service, collector } = await start();
    const sent = litellmSpans();
    const payload = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(sent)!).toString('utf8')) as {
      resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ spanId: string }> }> }>;
    };
    // The pass-through child gets an id of the wrong length.
    const childScope = payload.resourceSpans[0]!.scopeSpans.find((s) => s.spans[0]!.spanId === sent[0]!.spanContext().spanId)!;
    childScope.spans[0]!.spanId = 'abcd';
    const res = await post(service.app, 'application/json', JSON.stringify(payload));
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ partialSuccess: { rejectedSpans: '1', errorMessage: expect.stringContaining('no valid spanId') } });
    const spans = await waitForSpans(collector, 1);
    expect(spans.map((s) => s.spanId)).toEqual([sent[1]!.spanContext().spanId]);

    // The same in protobuf, decoded by the official deserializer.
    const protobuf = Buffer.from(ProtobufTraceSerializer.serializeRequest([sent[0]!])!);
    const zeroId = Buffer.from(protobuf);
    const at = zeroId.indexOf(Buffer.from(sent[0]!.spanContext().spanId, 'hex'));
    zeroId.fill(0, at, at + 8);
    const answer = await post(service.app, 'application/x-protobuf', zeroId);
    expect(answer.status).toBe(200);
    const decoded = ProtobufTraceSerializer.deserializeResponse(new Uint8Array(answer.body));
    expect(Number(decoded.partialSuccess?.rejectedSpans)).toBe(1);
    expect(decoded.partialSuccess?.errorMessage).toContain('no valid spanId');
  });

  it('400 with a google.rpc.Status for a body that cannot be decoded', async () => {
    const { service } = await start();
    const proto = await post(service.app, 'application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff, 0x01]));
    expect(proto.status).toBe(400);
    // Status.code = 3 (INVALID_ARGUMENT): field 1, varint.
    expect([...proto.body.subarray(0, 2)]).toEqual([0x08, 0x03]);
    const text = await post(service.app, 'application/json', '{"resourceSpans": ');
    expect(text.status).toBe(400);
    expect(json(text)).toEqual({ code: 3, message: expect.stringContaining('could not parse the JSON') });
    const shape = await post(service.app, 'application/json', '{"resourceSpans": {}}');
    expect(shape.status).toBe(400);
    expect(json(shape)).toEqual({ code: 3, message: 'request.resourceSpans must be an array' });
    const gzip = await post(service.app, 'application/json', 'not gzip', { Authorization: AUTH, 'Content-Encoding': 'gzip' });
    expect(gzip.status).toBe(400);
    expect(json(gzip)).toMatchObject({ code: 3 });
  });

  it('413 for a body over the limit, counted after inflating', async () => {
    const { service } = await start({ BRIDGE_MAX_BODY_BYTES: '2048' });
    const big = JSON.stringify({ resourceSpans: [], padding: 'x'.repeat(10_000) });
    const res = await post(service.app, 'application/json', gzipSync(big), { Authorization: AUTH, 'Content-Encoding': 'gzip' });
    // The compressed body is far below the limit; its inflated size is not.
    expect(gzipSync(big).length).toBeLessThan(2048);
    expect(res.status).toBe(413);
    expect(json(res)).toEqual({ code: 8, message: 'Body exceeded the 2048-byte limit' });
  });

  it('503 with Retry-After while the spool is full (the backend is down)', async () => {
    const { service, collector } = await start({ BRIDGE_SPOOL_MAX_BYTES: '100' }, { kind: 'status', status: 503 });
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(litellmSpans())!);
    const first = await post(service.app, 'application/x-protobuf', body);
    expect(first.status).toBe(200);
    const second = await post(service.app, 'application/x-protobuf', body);
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('10');
    // Status.code = 14 (UNAVAILABLE).
    expect([...second.body.subarray(0, 2)]).toEqual([0x08, 14]);
    // Back up: the stored spans go out and the bridge accepts again.
    collector.setBehaviour({ kind: 'ok' });
    await waitForSpans(collector, 2);
  });

  it('401 without the Langfuse keys (also in LiteLLM\'s URL-quoted form), 415 for other content types', async () => {
    const { service } = await start();
    const denied = await post(service.app, 'application/json', '{}', {});
    expect(denied.status).toBe(401);
    expect(json(denied)).toEqual({ code: 16, message: 'No authorization header' });
    const quoted = await post(service.app, 'application/json', '{}', { Authorization: AUTH.replace(' ', '%20') });
    expect(quoted.status).toBe(200);
    const other = await post(service.app, 'text/plain', 'hello');
    expect(other.status).toBe(415);
  });
});

describe('durability of OTLP exports', () => {
  it('stored before the 200: after a restart with the backend back, the spans go out as sent, with no synthetic root', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-otlp-'));
    try {
      const first = await start({ BRIDGE_STORE: 'sqlite', BRIDGE_DATA_DIR: dataDir }, { kind: 'status', status: 503 });
      const sent = litellmSpans();
      const res = await post(first.service.app, 'application/x-protobuf', Buffer.from(ProtobufTraceSerializer.serializeRequest(sent)!));
      expect(res.status).toBe(200);
      await first.service.shutdown();
      await first.collector.close();
      service = undefined;
      collector = undefined;
      // Every attempt was refused: nothing went out before the restart.
      expect(first.collector.requests.length).toBeGreaterThan(0);

      const second = await start({ BRIDGE_STORE: 'sqlite', BRIDGE_DATA_DIR: dataDir });
      // The spans were complete: they waited in the export queue, not in the log.
      expect(second.replayed + second.service.store.queue.queuedItems()).toBeGreaterThan(0);
      checkExported(await waitForSpans(second.collector, 2), sent);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('POST /api/public/scores', () => {
  it('answers {id} and exports an evaluation span, like score-create', async () => {
    const { service, collector } = await start();
    const res = await request(service.app)
      .post('/api/public/scores')
      .set('Authorization', AUTH)
      .send({ id: 'score-1', traceId: 'trace-1', name: 'accuracy', value: 0.9, comment: 'good' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'score-1' });
    const [span] = await waitForSpans(collector, 1);
    expect(span!.name).toBe('evaluation accuracy');
    expect(span!.attributes).toMatchObject({ 'gen_ai.evaluation.name': 'accuracy', 'gen_ai.evaluation.score.value': 0.9 });
  });

  it('makes up an id when none is given; 400 for an invalid score; 401 without keys', async () => {
    const { service } = await start();
    const made = await request(service.app).post('/api/public/scores').set('Authorization', AUTH).send({ traceId: 't', name: 'n', value: 1 });
    expect(made.status).toBe(200);
    expect(made.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const invalid = await request(service.app).post('/api/public/scores').set('Authorization', AUTH).send({ traceId: 't', value: 1 });
    expect(invalid.status).toBe(400);
    expect(invalid.body.message).toBe('Invalid request data');
    const denied = await request(service.app).post('/api/public/scores').send({ traceId: 't', name: 'n', value: 1 });
    expect(denied.status).toBe(401);
  });
});
