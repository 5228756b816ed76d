// The OTLP/gRPC span sink (src/export/grpc-span-sink.ts) against a grpc-js collector on 127.0.0.1:
// what arrives (the queued protobuf payloads, sent as they are), headers as metadata, gzip, each
// status code as the OTLP specification classifies it, RetryInfo honoured, the export worker's
// retry of UNAVAILABLE with RetryInfo, and TLS / mTLS with the same settings as OTLP/HTTP.
import { status } from '@grpc/grpc-js';
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { readTlsMaterial, type TlsFiles, type TlsMaterial } from '../../src/config/tls-config.js';
import { createGenAiMetricsRecorder } from '../../src/export/genai-metrics.js';
import { createGrpcSpanSink, type GrpcSinkOptions } from '../../src/export/grpc-span-sink.js';
import { toSpanId } from '../../src/export/ids.js';
import type { SpanSink } from '../../src/export/span-sink.js';
import { exportDrafts } from '../helpers/export-drafts.js';
import { startFakeGrpcCollector, type FakeGrpcCollector } from '../helpers/fake-grpc-collector.js';
import { makeDraft } from '../helpers/make-draft.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function collector(...args: Parameters<typeof startFakeGrpcCollector>): Promise<FakeGrpcCollector> {
  const started = await startFakeGrpcCollector(...args);
  closers.push(() => started.close());
  return started;
}

/** A TCP pass-through on 127.0.0.1 to the collector's port that counts the bytes the client sends. */
async function byteCountingProxy(port: string): Promise<{ url: string; bytesToServer(): number }> {
  let bytes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => (bytes += chunk.byteLength));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return { url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, bytesToServer: () => bytes };
}

function sink(options: Partial<GrpcSinkOptions> & { url: string }): SpanSink {
  const created = createGrpcSpanSink({ timeoutMillis: 3000, resourceAttributes: {}, bridgeVersion: 'test', ...options });
  closers.push(() => created.shutdown());
  return created;
}

describe('OTLP/gRPC export', () => {
  it('sends the queued protobuf payloads as one ExportTraceServiceRequest, headers as metadata', async () => {
    const grpc = await collector();
    const out = sink({ url: grpc.url, headers: { 'X-Scope-OrgID': 'team-a' } });
    const drafts = [makeDraft({ name: 'first' }), makeDraft({ name: 'second', span: { type: 'observation', id: 'gen-2' } })];
    expect(await exportDrafts(out, drafts)).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(grpc.calls).toHaveLength(1);
    expect(grpc.calls[0]!.metadata).toMatchObject({ 'x-scope-orgid': 'team-a', 'user-agent': expect.stringMatching(/^langfuse-otel-bridge\/test /) });
    expect(grpc.spans().map((s) => [s.name, s.spanId])).toEqual([
      ['first', toSpanId({ type: 'observation', id: 'gen-1' })],
      ['second', toSpanId({ type: 'observation', id: 'gen-2' })],
    ]);
    // The bytes on the wire are the payloads as queued: no second encoding.
    expect(grpc.calls[0]!.body.equals(Buffer.concat(drafts.map((d) => out.encode(d))))).toBe(true);
  });

  it('compresses with gzip when asked: far fewer bytes on the wire, the same spans read', async () => {
    const grpc = await collector();
    // grpc-js's server takes grpc-encoding out of the metadata, so the bytes are counted on the way.
    const proxy = await byteCountingProxy(new URL(grpc.url).port);
    const prompt = 'You are a helpful assistant. '.repeat(4000);
    const draft = makeDraft({ name: 'zipped', attributes: { 'gen_ai.request.model': 'gpt-4o', 'langfuse.observation.input': prompt } });
    expect((await exportDrafts(sink({ url: proxy.url, compression: 'gzip' }), [draft])).kind).toBe('success');
    const gzipBytes = proxy.bytesToServer();
    expect((await exportDrafts(sink({ url: proxy.url }), [draft])).kind).toBe('success');
    const plainBytes = proxy.bytesToServer() - gzipBytes;
    console.log(`[grpc] one span with a ${prompt.length}-character prompt: ${plainBytes} bytes plain, ${gzipBytes} with gzip`);
    expect(plainBytes).toBeGreaterThan(prompt.length);
    expect(gzipBytes).toBeLessThan(plainBytes / 10);
    expect(grpc.spans().map((s) => [s.name, s.attributes['langfuse.observation.input']])).toEqual([
      ['zipped', prompt],
      ['zipped', prompt],
    ]);
  });

  it.each([
    [status.UNAVAILABLE, undefined, 'retryable'],
    [status.CANCELLED, undefined, 'retryable'],
    [status.DEADLINE_EXCEEDED, undefined, 'retryable'],
    [status.ABORTED, undefined, 'retryable'],
    [status.OUT_OF_RANGE, undefined, 'retryable'],
    [status.DATA_LOSS, undefined, 'retryable'],
    [status.RESOURCE_EXHAUSTED, 1500, 'retryable'],
    [status.RESOURCE_EXHAUSTED, undefined, 'permanent'],
    [status.INVALID_ARGUMENT, undefined, 'permanent'],
    [status.UNAUTHENTICATED, undefined, 'permanent'],
    [status.PERMISSION_DENIED, undefined, 'permanent'],
    [status.UNIMPLEMENTED, undefined, 'permanent'],
    [status.INTERNAL, undefined, 'permanent'],
  ] as const)('status %s (RetryInfo %s ms) is %s', async (code, retryDelayMillis, kind) => {
    const grpc = await collector({ kind: 'status', code, details: 'told so', ...(retryDelayMillis !== undefined ? { retryDelayMillis } : {}) });
    const outcome = await exportDrafts(sink({ url: grpc.url }), [makeDraft()]);
    expect(outcome.kind).toBe(kind);
    expect(outcome.kind !== 'success' && outcome.reason).toBe(`gRPC ${status[code]}: told so`);
    if (retryDelayMillis !== undefined) expect(outcome).toMatchObject({ retryAfterMillis: retryDelayMillis });
  });

  it('a call past its deadline is retryable; an endpoint where nothing listens is UNAVAILABLE, retryable', async () => {
    const grpc = await collector({ kind: 'hang' });
    expect(await exportDrafts(sink({ url: grpc.url, timeoutMillis: 300 }), [makeDraft()])).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/^gRPC DEADLINE_EXCEEDED/) });
    await grpc.close();
    expect(await exportDrafts(sink({ url: grpc.url, timeoutMillis: 1000 }), [makeDraft()])).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/^gRPC (UNAVAILABLE|DEADLINE_EXCEEDED)/) });
  });
});

describe('OTLP/gRPC over TLS and mTLS', () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeTestCertificates();
  });
  afterAll(() => certs.remove());
  const material = (files: TlsFiles): TlsMaterial | undefined => readTlsMaterial(files, { ca: 'ca', cert: 'cert', key: 'key' }, (source, what) => expect.fail(`${source}: ${what}`));
  const mtlsCollector = () => collector({ kind: 'ok' }, { tls: { key: certs.read('serverKey'), cert: certs.read('serverCert'), clientCa: certs.read('ca') } });

  it('exports to an https endpoint with the CA bundle and the client certificate', async () => {
    const grpc = await mtlsCollector();
    const tls = material({ caFile: certs.files.ca, certFile: certs.files.clientCert, keyFile: certs.files.clientKey });
    expect(await exportDrafts(sink({ url: grpc.url, tls: tls! }), [makeDraft({ name: 'grpc over mtls' })])).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(grpc.spans().map((s) => s.name)).toEqual(['grpc over mtls']);
  });

  it.each([
    ['without the CA bundle', {}, /^TLS handshake failed: unknown CA/],
    ['without a client certificate', { caFile: 'ca' }, /^TLS handshake failed: client certificate required/],
  ] as const)('fails %s as a retryable outcome naming the reason', async (_, which, reason) => {
    const grpc = await mtlsCollector();
    const files = Object.fromEntries(Object.entries(which).map(([k, v]) => [k, certs.files[v as keyof TestCertificates['files']]]));
    const outcome = await exportDrafts(sink({ url: grpc.url, timeoutMillis: 2000, ...(Object.keys(files).length > 0 ? { tls: material(files)! } : {}) }), [makeDraft()]);
    expect(outcome.kind).toBe('retryable');
    expect(outcome.kind === 'retryable' && outcome.reason).toMatch(reason);
    expect(grpc.calls).toHaveLength(0);
  });

  it('the GenAI metrics follow over gRPC with the same TLS settings', async () => {
    const grpc = await mtlsCollector();
    const recorder = createGenAiMetricsRecorder({
      url: grpc.url,
      protocol: 'grpc',
      headers: { 'X-Scope-OrgID': 'team-a' },
      compression: 'gzip',
      timeoutMillis: 3000,
      exportIntervalMillis: 60_000,
      resourceAttributes: {},
      bridgeVersion: 'test',
      tls: material({ caFile: certs.files.ca, certFile: certs.files.clientCert, keyFile: certs.files.clientKey })!,
    });
    closers.push(() => recorder.shutdown());
    recorder.record([makeDraft({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 3 } })]);
    await recorder.forceFlush();
    const metrics = grpc.calls.filter((c) => c.method === 'metrics');
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.metadata).toMatchObject({ 'x-scope-orgid': 'team-a' });
    expect(metrics[0]!.body.includes(Buffer.from('gen_ai.client.token.usage'))).toBe(true);
  });
});
