// Covers the real OTLP/HTTP span sink (src/export/span-sink.ts) against a fake collector on
// 127.0.0.1, for both protobuf and JSON: what arrives on the wire, and how each answer becomes an
// outcome with exactly one attempt. Classification details, ids and span building are unit-tested
// in test/unit/export/; retries with backoff belong to the export worker and are tested there.

import { afterEach, describe, expect, it, onTestFinished } from 'vitest';

import { toSpanId, toTraceId } from '../../src/export/ids.js';
import { createOtlpSpanSink } from '../../src/export/span-sink.js';
import { exportDrafts } from '../helpers/export-drafts.js';
import type { OtlpSinkOptions, SpanSink } from '../../src/export/span-sink.js';
import type { SpanDraft } from '../../src/mapping/span-draft.js';
import { startFakeCollector } from '../helpers/fake-collector.js';
import type { CollectorBehaviour, FakeCollector } from '../helpers/fake-collector.js';

const TRACE_ID = 'trace-litellm-1';

const rootDraft: SpanDraft = {
  traceId: TRACE_ID,
  span: { type: 'root', traceId: TRACE_ID },
  name: 'litellm-acompletion',
  kind: 'INTERNAL',
  startTimeUnixNano: 1737566350957072123n,
  endTimeUnixNano: 1737566352000000001n,
  attributes: { 'langfuse.trace.id': TRACE_ID, 'user.id': 'user-7' },
  status: { code: 'UNSET' },
  resource: { 'service.name': 'litellm', 'langfuse.sdk.name': 'python' },
};

const generationDraft: SpanDraft = {
  traceId: TRACE_ID,
  span: { type: 'observation', id: 'gen-1' },
  parent: { type: 'root', traceId: TRACE_ID },
  name: 'chat gpt-4o',
  kind: 'CLIENT',
  startTimeUnixNano: 1737566350957072999n,
  endTimeUnixNano: 1737566351999999999n,
  attributes: {
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.request.temperature': 0.7,
    'gen_ai.request.stream': false,
    'gen_ai.request.stop_sequences': ['\n\n', 'END'],
  },
  status: { code: 'ERROR', message: 'rate limited' },
  resource: { 'service.name': 'litellm', 'langfuse.sdk.name': 'python' },
};

const PROTOCOLS = [
  { protocol: 'http/protobuf', contentType: 'application/x-protobuf' },
  { protocol: 'http/json', contentType: 'application/json' },
] as const;

const openSinks: SpanSink[] = [];

afterEach(async () => {
  await Promise.all(openSinks.splice(0).map((sink) => sink.shutdown()));
});

async function startCollector(behaviour?: CollectorBehaviour): Promise<FakeCollector> {
  const collector = await startFakeCollector(behaviour);
  onTestFinished(() => collector.close());
  return collector;
}

function makeSink(overrides: Partial<OtlpSinkOptions> & Pick<OtlpSinkOptions, 'url'>): SpanSink {
  const sink = createOtlpSpanSink({
    protocol: 'http/protobuf',
    timeoutMillis: 2000,
    resourceAttributes: {},
    bridgeVersion: '0.1.0-test',
    ...overrides,
  });
  openSinks.push(sink);
  return sink;
}

describe.each(PROTOCOLS)('OTLP span sink over $protocol', ({ protocol, contentType }) => {
  it('posts the spans with the right content type, ids, names, times and attributes', async () => {
    const collector = await startCollector();
    const sink = makeSink({ url: collector.url, protocol, headers: { Authorization: 'Bearer t0ken' } });

    const outcome = await exportDrafts(sink, [rootDraft, generationDraft]);

    expect(outcome).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(collector.requests).toHaveLength(1);
    const [request] = collector.requests;
    expect(request?.path).toBe('/v1/traces');
    expect(request?.contentType).toBe(contentType);
    expect(request?.headers['authorization']).toBe('Bearer t0ken');
    expect(request?.headers['user-agent']).toBe('langfuse-otel-bridge/0.1.0-test');
    expect(request?.decodeError).toBeUndefined();

    const traceId = toTraceId(TRACE_ID);
    const rootSpanId = toSpanId({ type: 'root', traceId: TRACE_ID });
    const [root, generation] = collector.spans();
    expect(root).toMatchObject({
      traceId,
      spanId: rootSpanId,
      parentSpanId: undefined,
      name: 'litellm-acompletion',
      kind: 1,
      startTimeUnixNano: '1737566350957072123',
      endTimeUnixNano: '1737566352000000001',
      attributes: { 'langfuse.trace.id': TRACE_ID, 'user.id': 'user-7' },
      resource: { 'service.name': 'litellm', 'langfuse.sdk.name': 'python' },
      scope: { name: 'langfuse-otel-bridge', version: '0.1.0-test' },
    });
    expect(generation).toMatchObject({
      traceId,
      spanId: toSpanId({ type: 'observation', id: 'gen-1' }),
      parentSpanId: rootSpanId,
      name: 'chat gpt-4o',
      kind: 3,
      startTimeUnixNano: '1737566350957072999',
      endTimeUnixNano: '1737566351999999999',
      status: { code: 2, message: 'rate limited' },
      attributes: {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.request.temperature': 0.7,
        'gen_ai.request.stream': false,
        'gen_ai.request.stop_sequences': ['\n\n', 'END'],
      },
    });
  });

  it('applies the service name override, base resource attributes and the length limit', async () => {
    const collector = await startCollector();
    const sink = makeSink({
      url: collector.url,
      protocol,
      resourceAttributes: { 'deployment.environment.name': 'staging' },
      serviceNameOverride: 'llm-gateway',
      attributeValueLengthLimit: 3,
    });

    await exportDrafts(sink, [generationDraft]);

    const [span] = collector.spans();
    expect(span?.resource).toEqual({
      'service.name': 'llm-gateway',
      'langfuse.sdk.name': 'python',
      'deployment.environment.name': 'staging',
    });
    expect(span?.attributes['gen_ai.request.model']).toBe('gpt');
  });

  it('sends a gzip body with Content-Encoding when compression is on', async () => {
    const collector = await startCollector();
    const sink = makeSink({ url: collector.url, protocol, compression: 'gzip' });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome.kind).toBe('success');
    expect(collector.requests[0]?.headers['content-encoding']).toBe('gzip');
    expect(collector.spans().map((span) => span.name)).toEqual(['chat gpt-4o']);
  });

  it('counts the rejected spans of a partial success', async () => {
    const collector = await startCollector({ kind: 'ok', partialSuccess: { rejectedSpans: 1, errorMessage: 'span too old' } });
    const sink = makeSink({ url: collector.url, protocol });

    const outcome = await exportDrafts(sink, [rootDraft, generationDraft]);

    expect(outcome).toEqual({ kind: 'success', rejectedSpans: 1, message: 'span too old' });
  });

  it('returns retryable with Retry-After for a 503, after one attempt', async () => {
    const collector = await startCollector({ kind: 'status', status: 503, headers: { 'Retry-After': '2' } });
    const sink = makeSink({ url: collector.url, protocol });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome).toEqual({ kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 2000 });
    expect(collector.requests).toHaveLength(1);
  });

  it('returns permanent with the status and body for a 400, after one attempt', async () => {
    const collector = await startCollector({ kind: 'status', status: 400, body: 'invalid span' });
    const sink = makeSink({ url: collector.url, protocol });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome).toEqual({ kind: 'permanent', reason: 'HTTP 400: invalid span', httpStatus: 400 });
    expect(collector.requests).toHaveLength(1);
  });

  it('returns retryable once the timeout passes when the collector never answers', async () => {
    const collector = await startCollector({ kind: 'hang' });
    const sink = makeSink({ url: collector.url, protocol, timeoutMillis: 300 });
    const started = Date.now();

    const outcome = await exportDrafts(sink, [generationDraft]);

    const elapsed = Date.now() - started;
    expect(outcome).toEqual({ kind: 'retryable', reason: 'no response within 300 ms' });
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(2000);
    expect(collector.requests).toHaveLength(1);
  });
});

describe('OTLP span sink', () => {
  it('returns retryable when the connection is refused', async () => {
    const collector = await startFakeCollector();
    const { url } = collector;
    await collector.close();
    const sink = makeSink({ url, timeoutMillis: 1000 });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome).toEqual({ kind: 'retryable', reason: 'network error: ECONNREFUSED' });
  });

  it('sends nothing for an empty batch', async () => {
    const collector = await startCollector();
    const sink = makeSink({ url: collector.url });

    const outcome = await exportDrafts(sink, []);

    expect(outcome).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(collector.requests).toHaveLength(0);
  });

  it('treats a 2xx with an undecodable protobuf body as success, with a note', async () => {
    const collector = await startCollector({ kind: 'status', status: 200, body: 'this is not protobuf' });
    const sink = makeSink({ url: collector.url });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome).toMatchObject({ kind: 'success', rejectedSpans: 0, message: expect.stringContaining('could not be decoded') });
  });

  it('classifies by status when the response body is over the 4 MiB cap', async () => {
    const collector = await startCollector({ kind: 'status', status: 400, body: 'x'.repeat(5 * 1024 * 1024) });
    const sink = makeSink({ url: collector.url });

    const outcome = await exportDrafts(sink, [generationDraft]);

    expect(outcome).toMatchObject({ kind: 'permanent', httpStatus: 400 });
    expect(outcome.kind === 'permanent' && outcome.reason.length).toBeLessThan(230);
  });

  it('sends the next batch on the same sink after a retryable answer', async () => {
    const collector = await startCollector();
    collector.setBehaviour((index) => (index === 0 ? { kind: 'status', status: 503 } : { kind: 'ok' }));
    const sink = makeSink({ url: collector.url });

    const first = await exportDrafts(sink, [generationDraft]);
    const second = await exportDrafts(sink, [generationDraft]);

    expect([first.kind, second.kind]).toEqual(['retryable', 'success']);
    expect(collector.requests).toHaveLength(2);
  });

  it('waits for an export in flight on shutdown and refuses later ones as retryable', async () => {
    const collector = await startCollector();
    const sink = makeSink({ url: collector.url });

    const inFlight = exportDrafts(sink, [generationDraft]);
    await sink.shutdown();
    const later = await exportDrafts(sink, [generationDraft]);

    expect(await inFlight).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(later).toEqual({ kind: 'retryable', reason: 'the span sink is shut down' });
    expect(collector.requests).toHaveLength(1);
  });

  it.each<[string, Partial<OtlpSinkOptions> & Pick<OtlpSinkOptions, 'url'>, string]>([
    ['a non-http url', { url: 'ftp://127.0.0.1/v1/traces' }, 'url is invalid'],
    ['an unparsable url', { url: 'not a url' }, 'url is invalid'],
    ['a zero timeout', { url: 'http://127.0.0.1:4318/v1/traces', timeoutMillis: 0 }, 'timeoutMillis is invalid'],
    ['a header value with a newline', { url: 'http://127.0.0.1:4318/v1/traces', headers: { 'x-tenant': 'a\nb' } }, 'headers is invalid'],
    ['a negative length limit', { url: 'http://127.0.0.1:4318/v1/traces', attributeValueLengthLimit: -1 }, 'attributeValueLengthLimit is invalid'],
  ])('throws at creation for %s', (_case, options, message) => {
    expect(() => makeSink(options)).toThrow(message);
  });
});
