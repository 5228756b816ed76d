import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGenAiMetricsRecorder, OPERATION_DURATION_BUCKETS, TOKEN_USAGE_BUCKETS, type GenAiMetricsRecorder } from '../../../src/export/genai-metrics.js';
import { makeDraft } from '../../helpers/make-draft.js';

/** A fake OTLP metrics receiver on 127.0.0.1: keeps each request's path, content type and body. */
interface MetricsSink {
  url: string;
  requests: Array<{ path: string; contentType: string | undefined; body: Buffer }>;
  /** The HTTP status it answers with (200 unless a test sets it). */
  status: number;
  close(): Promise<void>;
}

async function startMetricsSink(): Promise<MetricsSink> {
  const requests: MetricsSink['requests'] = [];
  const server: Server = createServer((req, res) => {
    const status = sink.status;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': String(req.headers['content-type'] ?? 'application/json') });
      res.end(req.headers['content-type'] === 'application/json' ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sink: MetricsSink = {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    status: 200,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  return sink;
}

type JsonMetric = { name: string; unit: string; histogram?: { dataPoints: Array<Record<string, any>> }; sum?: { dataPoints: Array<Record<string, any>>; isMonotonic: boolean } };

function metricsOf(sink: MetricsSink): { resource: Record<string, unknown>; metrics: JsonMetric[] } {
  const body = JSON.parse(sink.requests.at(-1)!.body.toString('utf8'));
  const rm = body.resourceMetrics[0];
  const resource = Object.fromEntries(rm.resource.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
  return { resource, metrics: rm.scopeMetrics.flatMap((s: any) => s.metrics) };
}

const attrs = (point: Record<string, any>) => Object.fromEntries(point.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));

describe('GenAI metrics from exported spans', () => {
  let sink: MetricsSink;
  let recorder: GenAiMetricsRecorder | undefined;
  beforeEach(async () => {
    sink = await startMetricsSink();
  });
  afterEach(async () => {
    await recorder?.shutdown();
    await sink.close();
  });

  const chat = makeDraft({
    startTimeUnixNano: 1_000_000_000n,
    endTimeUnixNano: 2_500_000_000n,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.model': 'gpt-4o-2024-08-06',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 20,
      'gen_ai.usage.cost': 0.000225,
      'langfuse.observation.cost_estimated': true,
      'gen_ai.input.messages': '[]',
    },
  });

  it('sends the token and duration histograms with the semconv boundaries and attributes, and the cost counter (OTLP/JSON)', async () => {
    recorder = createGenAiMetricsRecorder({ url: sink.url, protocol: 'http/json', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: { team: 'ai' }, bridgeVersion: 'test' });
    const failed = makeDraft({ span: { type: 'observation', id: 'gen-2' }, status: { code: 'ERROR', message: 'boom' }, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'error.type': 'RateLimitError' } });
    const internal = makeDraft({ kind: 'INTERNAL', attributes: { 'gen_ai.operation.name': 'invoke_workflow' } });
    recorder.record([chat, failed, internal]);
    await recorder.forceFlush();

    expect(sink.requests.at(-1)).toMatchObject({ path: '/v1/metrics', contentType: 'application/json' });
    const { resource, metrics } = metricsOf(sink);
    expect(resource).toMatchObject({ 'service.name': 'litellm', team: 'ai' });
    const byName = new Map(metrics.map((m) => [m.name, m]));

    const tokens = byName.get('gen_ai.client.token.usage')!;
    expect(tokens.unit).toBe('{token}');
    const points = tokens.histogram!.dataPoints;
    expect(points).toHaveLength(2);
    for (const point of points) expect(point.explicitBounds).toEqual(TOKEN_USAGE_BUCKETS);
    const input = points.find((p) => attrs(p)['gen_ai.token.type'] === 'input')!;
    expect(attrs(input)).toEqual({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-2024-08-06', 'gen_ai.token.type': 'input' });
    expect([Number(input.count), input.sum]).toEqual([1, 10]);

    const duration = byName.get('gen_ai.client.operation.duration')!;
    expect(duration.unit).toBe('s');
    const durations = duration.histogram!.dataPoints;
    expect(durations).toHaveLength(2);
    for (const point of durations) expect(point.explicitBounds).toEqual(OPERATION_DURATION_BUCKETS);
    expect(durations.find((p) => attrs(p)['error.type'] === undefined)!.sum).toBe(1.5);
    expect(attrs(durations.find((p) => attrs(p)['error.type'] !== undefined)!)).toMatchObject({ 'error.type': 'RateLimitError' });

    const cost = byName.get('gen_ai.usage.cost')!;
    expect(cost.unit).toBe('USD');
    expect(cost.sum!.isMonotonic).toBe(true);
    expect(cost.sum!.dataPoints[0]!.asDouble).toBeCloseTo(0.000225, 12);
    expect(attrs(cost.sum!.dataPoints[0]!)).toMatchObject({ 'langfuse.observation.cost_estimated': true });
    // Nothing but the GenAI client span was recorded (the INTERNAL workflow span is not a client call).
    expect(Number(durations.reduce((n, p) => n + Number(p.count), 0))).toBe(2);
  });

  it('reports a failed export once per reason (the SDK would only tell its silent diag logger), and again after a success', async () => {
    const failures: string[] = [];
    recorder = createGenAiMetricsRecorder({ url: sink.url, protocol: 'http/json', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: {}, bridgeVersion: 'test', onExportFailure: (reason) => failures.push(reason) });
    sink.status = 400;
    recorder.record([chat]);
    await recorder.forceFlush().catch(() => undefined);
    await recorder.forceFlush().catch(() => undefined);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/Bad Request|400/);
    sink.status = 200;
    await recorder.forceFlush();
    sink.status = 400;
    await recorder.forceFlush().catch(() => undefined);
    expect(failures).toHaveLength(2);
    sink.status = 200;
  });

  it('sends OTLP/protobuf by default', async () => {
    recorder = createGenAiMetricsRecorder({ url: sink.url, protocol: 'http/protobuf', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: {}, bridgeVersion: 'test' });
    recorder.record([chat]);
    await recorder.forceFlush();
    const request = sink.requests.at(-1)!;
    expect(request.contentType).toBe('application/x-protobuf');
    // The metric names travel as protobuf strings.
    expect(request.body.includes(Buffer.from('gen_ai.client.token.usage'))).toBe(true);
    expect(request.body.includes(Buffer.from('gen_ai.client.operation.duration'))).toBe(true);
  });

  it("sends the development names of semantic-conventions-genai main when asked (names: 'development')", async () => {
    recorder = createGenAiMetricsRecorder({ url: sink.url, protocol: 'http/json', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: {}, bridgeVersion: 'test', names: 'development' });
    const cached = makeDraft({
      span: { type: 'observation', id: 'gen-3' },
      attributes: { ...chat.attributes, 'gen_ai.usage.cache_creation.input_tokens': 300, 'gen_ai.usage.cache_read.input_tokens': 900 },
    });
    const embedding = makeDraft({ span: { type: 'observation', id: 'emb-1' }, attributes: { 'gen_ai.operation.name': 'embeddings', 'gen_ai.usage.input_tokens': 7 } });
    recorder.record([chat, cached, embedding]);
    await recorder.forceFlush();
    const byName = new Map(metricsOf(sink).metrics.map((m) => [m.name, m]));
    expect([...byName.keys()].sort()).toEqual([
      'gen_ai.client.embeddings.duration',
      'gen_ai.client.inference.duration',
      'gen_ai.client.inference.operation.input_tokens',
      'gen_ai.client.inference.operation.output_tokens',
      'gen_ai.client.inference.usage.cache_read.input_tokens',
      'gen_ai.client.inference.usage.cache_write.input_tokens',
      'gen_ai.client.inference.usage.input_tokens',
      'gen_ai.client.inference.usage.output_tokens',
      'gen_ai.usage.cost',
    ]);
    const sumOf = (name: string) => byName.get(name)!.sum!.dataPoints.reduce((n, p) => n + Number(p.asInt ?? p.asDouble), 0);
    expect(sumOf('gen_ai.client.inference.usage.input_tokens')).toBe(20);
    expect(sumOf('gen_ai.client.inference.usage.cache_write.input_tokens')).toBe(300);
    expect(sumOf('gen_ai.client.inference.usage.cache_read.input_tokens')).toBe(900);
    expect(attrs(byName.get('gen_ai.client.inference.usage.input_tokens')!.sum!.dataPoints[0]!)).toMatchObject({ 'gen_ai.token.modality': 'unknown' });
    expect(byName.get('gen_ai.client.inference.operation.input_tokens')!.histogram!.dataPoints[0]!.explicitBounds).toEqual(TOKEN_USAGE_BUCKETS);
    expect(byName.has('gen_ai.client.token.usage')).toBe(false);
  });
});

describe('OTEL_METRICS_EXPORTER=console', () => {
  it('prints the GenAI metrics with the SDK console exporter, and sends nothing', async () => {
    const printed: unknown[] = [];
    const spy = vi.spyOn(console, 'dir').mockImplementation((item) => void printed.push(item));
    const recorder = createGenAiMetricsRecorder({ exporters: ['console'], url: 'http://127.0.0.1:9/v1/metrics', protocol: 'http/protobuf', timeoutMillis: 1000, exportIntervalMillis: 60_000, resourceAttributes: {}, bridgeVersion: 't' });
    try {
      recorder.record([makeDraft({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 7 } })]);
      await recorder.forceFlush();
    } finally {
      await recorder.shutdown();
      spy.mockRestore();
    }
    expect(printed.map((p) => (p as { descriptor: { name: string } }).descriptor.name)).toEqual(expect.arrayContaining(['gen_ai.client.token.usage', 'gen_ai.client.operation.duration']));
  });
});

describe('GenAI metrics of a batch of many spans', () => {
  /** Data points without their times, in a stable order: what a batch must export like single spans. */
  const pointsOf = (sink: MetricsSink) =>
    metricsOf(sink)
      .metrics.map((m) => ({
        name: m.name,
        points: (m.histogram?.dataPoints ?? m.sum!.dataPoints)
          .map(({ startTimeUnixNano: _s, timeUnixNano: _t, ...point }) => point)
          .sort((a, b) => (JSON.stringify(a.attributes) < JSON.stringify(b.attributes) ? -1 : 1)),
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));

  const drafts = Array.from({ length: 600 }, (_, i) =>
    makeDraft({
      span: { type: 'observation', id: `gen-${i}` },
      startTimeUnixNano: 1_000_000_000n,
      endTimeUnixNano: 1_000_000_000n + BigInt(1 + ((i * 7919) % 30_000)) * 1_000_000n,
      status: i % 11 === 0 ? { code: 'ERROR', message: 'boom' } : { code: 'UNSET' },
      attributes: {
        'gen_ai.operation.name': i % 5 === 0 ? 'embeddings' : 'chat',
        'gen_ai.provider.name': i % 3 === 0 ? 'openai' : 'anthropic',
        'gen_ai.request.model': `model-${i % 4}`,
        ...(i % 7 === 0 ? { 'server.port': 8080 } : i % 7 === 1 ? { 'server.port': '8080' } : {}),
        ...(i % 13 === 0 ? { 'error.type': 'RateLimitError' } : {}),
        'gen_ai.usage.input_tokens': (i * 31) % 5000,
        ...(i % 2 === 0 ? { 'gen_ai.usage.output_tokens': (i * 17) % 900 } : {}),
        ...(i % 6 === 0 ? { 'gen_ai.usage.cache_read.input_tokens': i } : {}),
        // Costs in 1/1024 steps: their sums are exact in any order, so batched and single adds agree.
        'gen_ai.usage.cost': ((i % 9) + 1) / 1024,
        ...(i % 4 === 0 ? { 'langfuse.observation.cost_estimated': true } : {}),
      },
    }),
  );

  it('exports the same data points past its kept attribute sets (many models, error types, equal arrays)', async () => {
    // 1,500 models (more sets than are kept), 100 error types on one set, and equal arrays in
    // distinct objects (a passed-through span's server.address), in batches of 200.
    const many = Array.from({ length: 3000 }, (_, i) =>
      makeDraft({
        span: { type: 'observation', id: `many-${i}` },
        startTimeUnixNano: 1_000_000_000n,
        endTimeUnixNano: 1_000_000_000n + BigInt(1 + (i % 997)) * 1_000_000n,
        status: i % 2 === 0 ? { code: 'ERROR', message: 'boom' } : { code: 'UNSET' },
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': i % 2 === 0 ? 'model-errors' : `model-${i}`,
          ...(i % 2 === 0 ? { 'error.type': `Error${i % 100}` } : {}),
          ...(i % 3 === 0 ? { 'server.address': ['a', 'b'] } : {}),
          'gen_ai.usage.input_tokens': i % 50,
          'gen_ai.usage.cost': ((i % 9) + 1) / 1024,
        },
      }),
    );
    const sinks = [await startMetricsSink(), await startMetricsSink()];
    const recorders = sinks.map((s) => createGenAiMetricsRecorder({ url: s.url, protocol: 'http/json', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: {}, bridgeVersion: 'test' }));
    try {
      for (let from = 0; from < many.length; from += 200) recorders[0]!.record(many.slice(from, from + 200));
      for (const draft of many) recorders[1]!.record([draft]);
      await Promise.all(recorders.map((r) => r.forceFlush()));
      const batched = pointsOf(sinks[0]!);
      expect(batched).toEqual(pointsOf(sinks[1]!));
      const duration = batched.find((m) => m.name === 'gen_ai.client.operation.duration')!;
      expect(duration.points.length).toBe(1600);
    } finally {
      await Promise.all(recorders.map((r) => r.shutdown()));
      await Promise.all(sinks.map((s) => s.close()));
    }
  });

  for (const names of ['released', 'development'] as const) {
    it(`exports the same data points for one batch as for one span at a time (${names} names)`, async () => {
      const sinks = [await startMetricsSink(), await startMetricsSink()];
      const recorders = sinks.map((s) => createGenAiMetricsRecorder({ url: s.url, protocol: 'http/json', timeoutMillis: 5000, exportIntervalMillis: 3_600_000, resourceAttributes: {}, bridgeVersion: 'test', names }));
      try {
        recorders[0]!.record(drafts);
        for (const draft of drafts) recorders[1]!.record([draft]);
        await Promise.all(recorders.map((r) => r.forceFlush()));
        const batched = pointsOf(sinks[0]!);
        expect(batched).toEqual(pointsOf(sinks[1]!));
        // Many attribute sets (the error types and the 8080 number/string ports are told apart).
        const duration = batched.find((m) => m.name === (names === 'released' ? 'gen_ai.client.operation.duration' : 'gen_ai.client.inference.duration'))!;
        expect(duration.points.length).toBeGreaterThan(20);
        expect(batched.flatMap((m) => m.points).reduce((n, p) => n + Number(p.count ?? 0), 0)).toBeGreaterThan(600);
      } finally {
        await Promise.all(recorders.map((r) => r.shutdown()));
        await Promise.all(sinks.map((s) => s.close()));
      }
    });
  }
});
