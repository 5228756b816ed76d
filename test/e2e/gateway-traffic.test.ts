/**
 * The gateway under other traffic than its own test batches: two bridge replicas (real processes
 * on one real Kafka 4.4 topic) behind a round-robin, fed the way other clients split traces —
 * Dify's late trace-creates, OTLP spans as the current LiteLLM / `@langfuse/otel` export them,
 * scores through both score paths, the Langfuse JS SDK v3's recorded flushes, and the real
 * Langfuse Python SDKs 4.x (.e2e-cache/venv-current) and v2 (.e2e-cache/venv) behind a
 * round-robin HTTP proxy (they take one host). A fake OTLP collector records what is exported;
 * scores and the JS SDK trace are compared with what a single-process bridge exports for the
 * same requests.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, stopAllBridges, type RunningBridge } from '../helpers/bridge-process.js';
import { startFakeCollector, type CollectedSpan, type FakeCollector } from '../helpers/fake-collector.js';
import { hasSharedFixtures, readFixture } from '../helpers/shared-fixtures.js';
import { checkExports, postBatch, splitTrace, startReplica, waitForStableGroup, waitUntil, type SplitTrace } from './helpers/gateway.js';
import { startKafka, type KafkaBroker } from './helpers/kafka.js';
import { REPO_ROOT, VENV_PYTHON } from './helpers/paths.js';
import { assertVenvProvisioned, runLangfuseSdkScenarios } from './helpers/python.js';
import { baseEnv, runToCompletion } from './helpers/process.js';

/** Longer than the late trace-creates' delay, as a deployment receiving Dify traffic sets it. */
const TRACE_IDLE_MILLIS = 5000;
const LATE_DELAY_MILLIS = 2500;

let broker: KafkaBroker;
let collector: FakeCollector;
let single: { bridge: RunningBridge; collector: FakeCollector };
let replicas: RunningBridge[];
let proxy: { url: string; close: () => Promise<void> };
const run = randomBytes(3).toString('hex');

beforeAll(async () => {
  broker = await startKafka('kafka-gateway-traffic');
  collector = await startFakeCollector();
  const options = { brokers: broker.bootstrap, topic: `gwt-${process.pid}-${run}`, collectorUrl: collector.url, env: { BRIDGE_TRACE_IDLE_MS: String(TRACE_IDLE_MILLIS) } };
  replicas = [await startReplica(options), await startReplica(options)];
  await waitForStableGroup(replicas, 8);
  proxy = await startRoundRobinProxy(replicas.map((r) => r.url));
  const singleCollector = await startFakeCollector();
  single = {
    collector: singleCollector,
    bridge: await startBridge({ dataDir: mkdtempSync(path.join(os.tmpdir(), 'bridge-gwt-single-')), collectorUrl: singleCollector.url, env: { BRIDGE_TRACE_IDLE_MS: String(TRACE_IDLE_MILLIS), BRIDGE_EXPORT_LINGER_MS: '20' } }),
  };
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await stopAllBridges();
  await collector?.close();
  await single?.collector.close();
  await broker?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString();
const inTraces = (spans: CollectedSpan[], otelTraceIds: Set<string>) => spans.filter((s) => otelTraceIds.has(s.traceId));

describe('gateway under other traffic (two replicas, round-robin)', () => {
  it("late trace-creates (Dify's background worker): 300 traces, a tenth of the trace-creates seconds late; every generation once and whole, one root per trace, late roots named by their trace-create", async () => {
    const base = Date.now() - 60_000;
    const traces = Array.from({ length: 300 }, (_, i) => splitTrace(`late-${run}`, i, base));
    const isLate = (i: number) => i % 10 === 0;
    const lateCreate = (t: SplitTrace, i: number) => [
      {
        id: `${t.traceId}-late`,
        type: 'trace-create',
        timestamp: iso(base + i),
        body: { id: t.traceId, name: `late trace ${i}`, input: { question: `late ${i}` }, userId: 'u-late', timestamp: iso(base + i) },
      },
    ];
    let next = 0;
    const urls = replicas.map((r) => r.url);
    const statuses: number[] = [];
    const lateSends: Array<Promise<void>> = [];
    for (let i = 0; i < traces.length; i += 20) {
      const slice = traces.slice(i, i + 20);
      // Without the trace-create for the late ones: it comes later, from another worker.
      const firsts = slice.map((t, j) => (isLate(i + j) ? t.first.filter((e) => (e as { type: string }).type !== 'trace-create') : t.first));
      statuses.push(...(await Promise.all(firsts.map((b) => postBatch(urls[next++ % 2]!, b)))).map((a) => a.status));
      statuses.push(...(await Promise.all(slice.map((t) => postBatch(urls[next++ % 2]!, t.second)))).map((a) => a.status));
      slice.forEach((t, j) => {
        if (!isLate(i + j)) return;
        const url = urls[next++ % 2]!;
        lateSends.push(sleep(LATE_DELAY_MILLIS).then(async () => void statuses.push((await postBatch(url, lateCreate(t, i + j))).status)));
      });
    }
    await Promise.all(lateSends);
    expect(statuses.filter((s) => s !== 207)).toEqual([]);
    expect(statuses).toHaveLength(630);
    const ids = new Set(traces.map((t) => traceIdOf(t.generationId)));
    await waitUntil(() => checkExports(inTraces(collector.spans(), ids), traces).tracesWithOneRoot >= 300, 60_000, 'every root');
    await sleep(1500);
    const spans = inTraces(collector.spans(), ids);
    const result = checkExports(spans, traces);
    process.stderr.write(`[gateway late trace-creates] ${JSON.stringify(result)}\n`);
    expect(result).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 300, tracesWithOneRoot: 300, tracesWithManyRoots: 0 });
    expect(spans).toHaveLength(600);
    const roots = new Map(spans.filter((s) => !s.parentSpanId).map((s) => [s.traceId, s]));
    const wrong: string[] = [];
    traces.forEach((t, i) => {
      const root = roots.get(traceIdOf(t.generationId))!;
      const name = isLate(i) ? `late trace ${i}` : `trace ${i}`;
      const input = JSON.stringify(Object.values(root.attributes)).includes(`late ${i}`);
      if (root.name !== name || (isLate(i) && !input)) {
        wrong.push(`${t.traceId}: root ${root.name} ${JSON.stringify(root.attributes).slice(0, 300)}`);
      }
    });
    expect(wrong).toEqual([]);
  }, 120_000);

  it('OTLP spans (root and generation exported in different requests, to different replicas): each span exported once, ids kept', async () => {
    const traces = Array.from({ length: 60 }, (_, i) => otlpTrace(i));
    const urls = replicas.map((r) => r.url);
    const answers: number[] = [];
    // As a BatchSpanProcessor exports: the generation ends first, its root in the next export.
    for (let i = 0; i < traces.length; i += 10) {
      const slice = traces.slice(i, i + 10);
      answers.push(...(await Promise.all(slice.map((t, j) => postOtlp(urls[(i + j) % 2]!, [t.generation])))));
      answers.push(...(await Promise.all(slice.map((t, j) => postOtlp(urls[(i + j + 1) % 2]!, [t.root])))));
    }
    expect(answers.filter((s) => s !== 200)).toEqual([]);
    const ids = new Set(traces.map((t) => t.traceId));
    const sent = traces.flatMap((t) => [t.root, t.generation]);
    await waitUntil(() => new Set(inTraces(collector.spans(), ids).map((s) => s.spanId)).size >= sent.length, 60_000, 'every OTLP span');
    await sleep(TRACE_IDLE_MILLIS + 1500);
    const spans = inTraces(collector.spans(), ids);
    const counts = new Map<string, number>();
    for (const s of spans) counts.set(s.spanId, (counts.get(s.spanId) ?? 0) + 1);
    process.stderr.write(`[gateway otlp] ${sent.length} sent, ${spans.length} exported, ${[...counts.values()].filter((n) => n > 1).length} span ids twice\n`);
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(spans.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId ?? ''}`).sort()).toEqual(sent.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId ?? ''}`).sort());
    for (const t of traces) {
      const g = spans.find((s) => s.spanId === t.generation.spanId)!;
      expect(g.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
      expect(g.attributes['gen_ai.usage.input_tokens']).toBe(12);
      expect(spans.find((s) => s.spanId === t.root.spanId)!.name).toBe(t.root.name);
    }
  }, 120_000);

  it('scores (score-create events and POST /api/public/scores) through the gateway: the same score spans as a single-process bridge exports', async () => {
    const base = Date.now() - 60_000;
    const traces = Array.from({ length: 20 }, (_, i) => splitTrace(`score-${run}`, i, base));
    const scoreEvent = (t: SplitTrace, i: number) => ({
      id: `${t.traceId}-s-e`,
      type: 'score-create',
      timestamp: iso(base + i + 600),
      body: { id: `${t.traceId}-s1`, traceId: t.traceId, observationId: t.generationId, name: 'quality', value: i / 20, comment: `event ${i}` },
    });
    // Langfuse's score API takes no timestamp: the score's time is when it was received.
    const restScore = (t: SplitTrace, i: number) => ({ id: `${t.traceId}-s2`, traceId: t.traceId, name: 'helpful', value: i % 2 === 0 ? 'yes' : 'no', dataType: 'CATEGORICAL' });
    const send = async (url: (k: number) => string) => {
      const statuses: number[] = [];
      let k = 0;
      for (const [i, t] of traces.entries()) {
        statuses.push((await postBatch(url(k++), t.first)).status);
        // The score-create travels with the update, as the SDKs flush them together.
        statuses.push((await postBatch(url(k++), [...t.second, scoreEvent(t, i)])).status);
        statuses.push(await postScore(url(k++), restScore(t, i)));
      }
      return statuses;
    };
    const urls = replicas.map((r) => r.url);
    const sentFrom = BigInt(Date.now()) * 1_000_000n;
    expect(await send((k) => urls[k % 2]!)).toEqual(traces.flatMap(() => [207, 207, 200]));
    const sentTo = BigInt(Date.now()) * 1_000_000n;
    expect(await send(() => single.bridge.url)).toEqual(traces.flatMap(() => [207, 207, 200]));
    const ids = new Set(traces.map((t) => traceIdOf(t.generationId)));
    const scoreSpans = (spans: CollectedSpan[]) => inTraces(spans, ids).filter((s) => s.attributes['gen_ai.evaluation.name'] !== undefined);
    await waitUntil(() => scoreSpans(single.collector.spans()).length >= 40 && scoreSpans(collector.spans()).length >= 40, 60_000, 'every score span from both');
    await waitUntil(() => checkExports(inTraces(collector.spans(), ids), traces).tracesWithOneRoot >= 20, 30_000, 'every root');
    await sleep(1500);
    const gateway = scoreSpans(collector.spans());
    const reference = scoreSpans(single.collector.spans());
    process.stderr.write(`[gateway scores] gateway ${gateway.length} score spans, single-process ${reference.length}\n`);
    expect(gateway).toHaveLength(40);
    expect(new Set(gateway.map((s) => s.spanId)).size).toBe(40);
    // The REST scores' times are their receipt times, which differ between the two sends: they lie within the gateway's send.
    const rest = gateway.filter((s) => s.attributes['gen_ai.evaluation.name'] === 'helpful');
    expect(rest).toHaveLength(20);
    expect(rest.filter((s) => BigInt(s.startTimeUnixNano) < sentFrom || BigInt(s.startTimeUnixNano) > sentTo)).toEqual([]);
    expect(gateway.map(comparable).sort()).toEqual(reference.map(comparable).sort());
    expect(checkExports(inTraces(collector.spans(), ids), traces)).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, tracesWithOneRoot: 20 });
  }, 120_000);

  // A real request sequence of the Langfuse JS SDK v3 from the shared corpus (read in place, never copied).
  it.skipIf(!hasSharedFixtures)('the Langfuse JS SDK v3 recording (score-create before the updates, a second trace-create upsert), its two flushes to different replicas: the same spans as a single-process bridge exports', async () => {
    const recording = readFixture<{ requests: Array<{ path: string; headers: Record<string, string>; body: { batch: Array<{ type: string; body: { id: string } }> } }> }>('langfuse-js-v3/trace-span-generation-event-score.json');
    const requests = recording.requests.filter((r) => r.path === '/api/public/ingestion');
    expect(requests).toHaveLength(2);
    const traceId = requests[0]!.body.batch.find((e) => e.type === 'trace-create')!.body.id;
    const otelTraceId = traceId.replace(/-/g, '');
    for (const [i, r] of requests.entries()) {
      expect(await postRecorded(replicas[i % 2]!.url, r.headers, r.body)).toBe(207);
      expect(await postRecorded(single.bridge.url, r.headers, r.body)).toBe(207);
    }
    const ids = new Set([otelTraceId]);
    // 1 root, a span, a generation, an event, a score.
    await waitUntil(() => inTraces(collector.spans(), ids).length >= 5 && inTraces(single.collector.spans(), ids).length >= 5, 30_000, 'the recorded trace from both');
    await sleep(1500);
    const gateway = inTraces(collector.spans(), ids);
    const reference = inTraces(single.collector.spans(), ids);
    process.stderr.write(`[gateway js sdk v3 recording] gateway ${gateway.length} spans, single-process ${reference.length}\n`);
    expect(gateway).toHaveLength(5);
    expect(gateway.map(comparable).sort()).toEqual(reference.map(comparable).sort());
  }, 60_000);

  it('the Langfuse Python SDK 4.x (OTLP spans, score-create batch, REST score) behind the round-robin proxy, three runs: every span exported once with its ids, every score once', async () => {
    const from = proxyRequests.length;
    const results = [];
    for (let k = 0; k < 3; k++) {
      results.push(await runLangfuseSdkScenarios({ langfuseHost: proxy.url, publicKey: 'pk-lf-gateway', secretKey: 'sk-lf-gateway', run: `${run}-sdk4-${k}` }));
    }
    for (const r of results) expect(r.errors, JSON.stringify(r.errors)).toEqual([]);
    const upstreams = new Set(proxyRequests.slice(from).filter((r) => r.path === '/api/public/otel/v1/traces' || r.path === '/api/public/scores' || r.path === '/api/public/ingestion').map((r) => r.upstream));
    expect(upstreams.size, 'requests went to both replicas').toBe(2);
    const sent = results.flatMap((r) => r.otlp.flatMap((e) => e.spans));
    const ids = new Set(results.map((r) => r.trace.traceId));
    const isScore = (s: CollectedSpan) => s.attributes['gen_ai.evaluation.name'] !== undefined;
    const scoreCount = results.reduce((n, r) => n + r.scores.length, 0);
    await waitUntil(() => {
      const got = inTraces(collector.spans(), ids);
      return got.filter((s) => !isScore(s)).length >= sent.length && got.filter(isScore).length >= scoreCount;
    }, 60_000, 'every span and score of the SDK runs');
    await sleep(1500);
    const spans = inTraces(collector.spans(), ids);
    process.stderr.write(`[gateway python sdk 4.x] ${sent.length} spans sent, ${scoreCount} scores; exported ${spans.length} spans\n`);
    expect(spans.filter((s) => !isScore(s)).map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId ?? ''}`).sort()).toEqual(sent.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId || ''}`).sort());
    const scores = spans.filter(isScore);
    expect(scores).toHaveLength(scoreCount);
    expect(new Set(scores.map((s) => s.spanId)).size).toBe(scoreCount);
    expect(scores.map((s) => String(s.attributes['gen_ai.evaluation.name'])).sort()).toEqual(results.flatMap((r) => r.scores.map((x) => x.name)).sort());
  }, 120_000);

  it('the Langfuse Python SDK v2 behind a round-robin proxy: traces with generations and updates, every generation once and whole', async () => {
    assertVenvProvisioned('legacy');
    const prefix = `py-${run}`;
    const from = proxyRequests.length;
    const res = await runToCompletion({
      name: 'gateway-python-sdk',
      command: VENV_PYTHON,
      args: ['-c', PYTHON_CLIENT, prefix, '12'],
      cwd: REPO_ROOT,
      timeoutMs: 60_000,
      env: baseEnv({ LANGFUSE_HOST: proxy.url, LANGFUSE_PUBLIC_KEY: 'pk-lf-gateway', LANGFUSE_SECRET_KEY: 'sk-lf-gateway', PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }),
    });
    expect(res.code, res.output).toBe(0);
    const traces = Array.from({ length: 12 }, (_, i) => ({ traceId: `${prefix}-t${i}`, generationId: `${prefix}-g${i}`, first: [], second: [] }));
    const requests = proxyRequests.slice(from).filter((r) => r.path === '/api/public/ingestion');
    expect(requests.length, 'the SDK flushed more than once').toBeGreaterThanOrEqual(4);
    expect(new Set(requests.map((r) => r.upstream)).size, 'requests went to both replicas').toBe(2);
    expect(requests.filter((r) => r.status !== 207)).toEqual([]);
    const ids = new Set(traces.map((t) => traceIdOf(t.generationId)));
    await waitUntil(() => checkExports(inTraces(collector.spans(), ids), traces).tracesWithOneRoot >= 12, 60_000, 'every root');
    await sleep(1500);
    const spans = inTraces(collector.spans(), ids);
    const result = checkExports(spans, traces);
    process.stderr.write(`[gateway python sdk] ${requests.length} ingestion requests; ${JSON.stringify(result)}\n`);
    expect(result).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 12, tracesWithOneRoot: 12, tracesWithManyRoots: 0 });
    for (const [i, t] of traces.entries()) {
      const g = spans.find((s) => s.attributes['langfuse.observation.id'] === t.generationId)!;
      expect(JSON.stringify(g.attributes)).toContain(`hello ${i}`);
      const root = spans.find((s) => s.traceId === traceIdOf(t.generationId) && !s.parentSpanId)!;
      expect(root.name).toBe(`py trace ${i}`);
      expect(g.parentSpanId).toBe(root.spanId);
    }
  }, 120_000);
});

/** The OTel trace id of a split trace: its Langfuse id is not hex, so SHA-256 of `trace:<id>`. */
function traceIdOf(generationId: string): string {
  const traceId = generationId.replace(/-g(\d+)$/, '-t$1');
  return createHash('sha256').update(`trace:${traceId}`).digest('hex').slice(0, 32);
}

/** A score span as both modes must export it (the resource differs: it names the process; a REST score's time is its receipt time). */
function comparable(span: CollectedSpan): string {
  const attributes = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  const received = span.attributes['langfuse.score.data_type'] !== undefined && span.attributes['gen_ai.evaluation.name'] === 'helpful';
  const times = received ? [] : [span.startTimeUnixNano, span.endTimeUnixNano];
  return JSON.stringify([span.traceId, span.spanId, span.parentSpanId, span.name, span.kind, ...times, attributes, span.status]);
}

async function postRecorded(url: string, headers: Record<string, string>, body: unknown): Promise<number> {
  const res = await fetch(`${url}/api/public/ingestion`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  return res.status;
}

async function postScore(url: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/api/public/scores`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  return res.status;
}

interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string; boolValue?: boolean } }>;
  status: { code: number };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

/** A root span and a generation under it, with the `langfuse.*` attributes `@langfuse/otel` and LiteLLM's OTLP callback set. */
function otlpTrace(i: number): { traceId: string; root: OtlpJsonSpan; generation: OtlpJsonSpan } {
  const traceId = hex(16);
  const startNanos = BigInt(Date.now() - 60_000 + i) * 1_000_000n;
  const root: OtlpJsonSpan = {
    traceId,
    spanId: hex(8),
    name: `otlp pipeline ${i}`,
    kind: 1,
    startTimeUnixNano: String(startNanos),
    endTimeUnixNano: String(startNanos + 900_000_000n),
    attributes: [str('langfuse.observation.type', 'span'), str('langfuse.trace.name', `otlp pipeline ${i}`), str('langfuse.trace.input', JSON.stringify({ q: i })), str('langfuse.user.id', 'u-otlp')],
    status: { code: 0 },
  };
  const generation: OtlpJsonSpan = {
    traceId,
    spanId: hex(8),
    parentSpanId: root.spanId,
    name: 'litellm-acompletion',
    kind: 1,
    startTimeUnixNano: String(startNanos + 100_000_000n),
    endTimeUnixNano: String(startNanos + 800_000_000n),
    attributes: [
      str('langfuse.observation.type', 'generation'),
      str('langfuse.observation.model.name', 'gpt-4o-mini'),
      str('langfuse.observation.input', JSON.stringify([{ role: 'user', content: `hi ${i}` }])),
      str('langfuse.observation.output', JSON.stringify({ role: 'assistant', content: `hello ${i}` })),
      str('langfuse.observation.usage_details', JSON.stringify({ input: 12, output: 7, total: 19 })),
    ],
    status: { code: 0 },
  };
  return { traceId, root, generation };
}

async function postOtlp(url: string, spans: OtlpJsonSpan[]): Promise<number> {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'gateway-traffic'), str('telemetry.sdk.language', 'python')] },
        scopeSpans: [{ scope: { name: 'langfuse-sdk', version: '3.14.5', attributes: [str('public_key', 'pk-lf-gateway')] }, spans }],
      },
    ],
  };
  const res = await fetch(`${url}/api/public/otel/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  return res.status;
}

const proxyRequests: Array<{ path: string; upstream: string; status: number }> = [];

/** A round-robin HTTP proxy on 127.0.0.1 (port 0) for clients that take one host: each request goes to the next replica. */
async function startRoundRobinProxy(upstreams: string[]): Promise<{ url: string; close: () => Promise<void> }> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const upstream = upstreams[next++ % upstreams.length]!;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = { ...req.headers };
      delete headers.host;
      const out = http.request(`${upstream}${req.url ?? '/'}`, { method: req.method, headers }, (answer) => {
        proxyRequests.push({ path: (req.url ?? '').split('?')[0]!, upstream, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"bad gateway"}');
      });
      out.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * The Langfuse Python SDK v2 (.e2e-cache/venv) as an application uses it: a trace, a generation
 * created and flushed, then updated and ended with its output and usage in a later flush, and the
 * trace updated with its output.
 */
const PYTHON_CLIENT = `
import sys
from langfuse import Langfuse
prefix, count = sys.argv[1], int(sys.argv[2])
lf = Langfuse(flush_at=4, flush_interval=0.2, max_retries=3)
for i in range(count):
    t = lf.trace(id=f"{prefix}-t{i}", name=f"py trace {i}", input={"question": f"q {i}"}, user_id="u-py")
    g = t.generation(id=f"{prefix}-g{i}", name="llm", model="gpt-4o", input=[{"role": "user", "content": f"hi {i}"}])
    if i % 3 == 0:
        lf.flush()
    g.update(output={"role": "assistant", "content": f"hello {i}"})
    g.end(usage={"input": 10, "output": 5, "total": 15})
    t.update(output={"answer": f"hello {i}"})
lf.flush()
lf.shutdown()
print("done")
`;
