// The exporters over TLS and mTLS against an HTTPS collector on 127.0.0.1 with a private CA that
// requires a client certificate (certificates made with openssl in a temp dir): OTLP/HTTP spans,
// Langfuse scores and the GenAI metrics. A handshake that fails is a retryable outcome whose reason
// says what is wrong (unknown CA, client certificate required, bad client certificate).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { readTlsMaterial, type TlsFiles, type TlsMaterial } from '../../src/config/tls-config.js';
import { createGenAiMetricsRecorder } from '../../src/export/genai-metrics.js';
import { createScoreForwarder } from '../../src/export/langfuse-scores.js';
import { createOtlpSpanSink, type SpanSink } from '../../src/export/span-sink.js';
import { exportDrafts } from '../helpers/export-drafts.js';
import { startFakeCollector, type FakeCollector } from '../helpers/fake-collector.js';
import { makeDraft } from '../helpers/make-draft.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-certificates.js';

let certs: TestCertificates;
let collector: FakeCollector;
const sinks: Array<{ shutdown(): Promise<void> }> = [];

beforeAll(async () => {
  certs = makeTestCertificates();
  collector = await startFakeCollector({ kind: 'ok' }, { tls: { key: certs.read('serverKey'), cert: certs.read('serverCert'), clientCa: certs.read('ca') } });
});
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.shutdown()));
});
afterAll(async () => {
  await collector.close();
  certs.remove();
});

function material(files: TlsFiles): TlsMaterial | undefined {
  const issues: string[] = [];
  const tls = readTlsMaterial(files, { ca: 'ca', cert: 'cert', key: 'key' }, (source, what) => issues.push(`${source}: ${what}`));
  expect(issues).toEqual([]);
  return tls;
}

function sink(tls: TlsMaterial | undefined): SpanSink {
  const created = createOtlpSpanSink({
    protocol: 'http/protobuf',
    url: collector.url,
    timeoutMillis: 5000,
    resourceAttributes: {},
    bridgeVersion: 'test',
    ...(tls ? { tls } : {}),
  });
  sinks.push(created);
  return created;
}

describe('OTLP/HTTP spans over mTLS', () => {
  it('arrive with the CA bundle and the client certificate', async () => {
    const before = collector.requests.length;
    const tls = material({ caFile: certs.files.ca, certFile: certs.files.clientCert, keyFile: certs.files.clientKey });
    const outcome = await exportDrafts(sink(tls), [makeDraft({ name: 'over mtls' })]);
    expect(outcome).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(collector.requests.slice(before).flatMap((r) => r.spans.map((s) => s.name))).toEqual(['over mtls']);
  });

  it.each([
    ['without the CA bundle', {}, /^TLS handshake failed: unknown CA: .*\(SELF_SIGNED_CERT_IN_CHAIN\)$/],
    ['without a client certificate', { caFile: 'ca' }, /^TLS handshake failed: client certificate required: .*\(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)$/],
    ['with a client certificate of another CA', { caFile: 'ca', certFile: 'otherClientCert', keyFile: 'otherClientKey' }, /^TLS connection refused by the server right after the handshake: it may not accept the client certificate .*\(ECONNRESET\)$/],
    // A Node server resets the connection without an alert; a Go server (the Collector) sends "bad certificate".
  ] as const)('fail %s as a retryable outcome naming the reason', async (_, which, reason) => {
    const before = collector.requests.length;
    const files = Object.fromEntries(Object.entries(which).map(([k, v]) => [k, certs.files[v as keyof TestCertificates['files']]]));
    const outcome = await exportDrafts(sink(material(files) ?? undefined), [makeDraft()]);
    expect(outcome.kind).toBe('retryable');
    expect(outcome.kind === 'retryable' && outcome.reason).toMatch(reason);
    expect(collector.requests.length).toBe(before);
  });

  it('insecure_skip_verify trusts any server certificate (the client certificate is still sent)', async () => {
    const tls = material({ certFile: certs.files.clientCert, keyFile: certs.files.clientKey, insecureSkipVerify: true });
    expect((await exportDrafts(sink(tls), [makeDraft()])).kind).toBe('success');
  });
});

describe('the other exporters over mTLS', () => {
  it('a Langfuse destination sends its scores with the same TLS settings', async () => {
    const before = collector.requests.length;
    const tls = material({ caFile: certs.files.ca, certFile: certs.files.clientCert, keyFile: certs.files.clientKey });
    const forwarder = createScoreForwarder({ url: collector.url.replace('/v1/traces', '/api/public/scores'), publicKey: 'pk', secretKey: 'sk', timeoutMillis: 5000, bridgeVersion: 'test', tls: tls! });
    sinks.push(forwarder);
    expect(await forwarder.send({ id: 's1', name: 'quality', value: 1, environment: 'default', source: 'API' })).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(collector.requests.slice(before).map((r) => r.path)).toEqual(['/api/public/scores']);
    const refused = createScoreForwarder({ url: collector.url, publicKey: 'pk', secretKey: 'sk', timeoutMillis: 5000, bridgeVersion: 'test', tls: material({ caFile: certs.files.ca })! });
    sinks.push(refused);
    expect(await refused.send({ id: 's2', name: 'quality', value: 1, environment: 'default', source: 'API' })).toMatchObject({ kind: 'retryable', reason: expect.stringMatching(/client certificate required/) });
  });

  it('the GenAI metrics go to an https metrics endpoint with the CA bundle and client certificate', async () => {
    const before = collector.requests.length;
    const recorder = createGenAiMetricsRecorder({
      url: collector.url.replace('/v1/traces', '/v1/metrics'),
      protocol: 'http/protobuf',
      timeoutMillis: 5000,
      exportIntervalMillis: 60_000,
      resourceAttributes: {},
      bridgeVersion: 'test',
      tls: material({ caFile: certs.files.ca, certFile: certs.files.clientCert, keyFile: certs.files.clientKey })!,
    });
    sinks.push(recorder);
    recorder.record([makeDraft({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 3 } })]);
    await recorder.forceFlush();
    const metrics = collector.requests.slice(before).filter((r) => r.path === '/v1/metrics');
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.rawBody.includes(Buffer.from('gen_ai.client.token.usage'))).toBe(true);
  });
});
