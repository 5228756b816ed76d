/**
 * Gateway-mode helpers: bridge replicas on one Kafka topic, traffic split across requests the way
 * SDKs split it (trace-create + generation-create in one request, generation-update in the next),
 * sent round-robin over the replicas, and the checks on what a fake OTLP collector received.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Partitioners } from 'kafkajs';
import type { CollectedSpan } from '../../helpers/fake-collector.js';
import { spawnBridge, type BridgeOptions, type RunningBridge } from '../../helpers/bridge-process.js';

export interface GatewayOptions {
  brokers: string;
  topic: string;
  collectorUrl: string;
  partitions?: number;
  env?: Record<string, string>;
}

/** The settings of a replica (also for `node dist/main.js <command>` in gateway mode). */
export function replicaOptions(options: GatewayOptions): BridgeOptions {
  return {
    dataDir: mkdtempSync(path.join(os.tmpdir(), 'bridge-gw-')),
    collectorUrl: options.collectorUrl,
    env: {
      BRIDGE_KAFKA_BROKERS: options.brokers,
      BRIDGE_KAFKA_TOPIC: options.topic,
      BRIDGE_KAFKA_GROUP: `${options.topic}-group`,
      BRIDGE_KAFKA_PARTITIONS: String(options.partitions ?? 8),
      BRIDGE_KAFKA_PRODUCE_TIMEOUT_MS: '5000',
      BRIDGE_TRACE_IDLE_MS: '1500',
      BRIDGE_EXPORT_LINGER_MS: '20',
      BRIDGE_SHUTDOWN_TIMEOUT_MS: '5000',
      ...options.env,
    },
  };
}

export async function startReplica(options: GatewayOptions, readyTimeoutMillis = 15_000): Promise<RunningBridge> {
  const bridge = spawnBridge(replicaOptions(options));
  try {
    const url = await bridge.listening;
    await bridge.waitForLog((log) => log.msg === 'ready', readyTimeoutMillis);
    return Object.assign(bridge, { url });
  } catch (error) {
    await bridge.kill9();
    throw error;
  }
}

const ASSIGNED = 'partitions assigned; replaying them from their committed offsets';

/** Partitions a replica owns per its last assignment log line (of `destination`'s consumer, when given). */
export function assignedPartitions(bridge: RunningBridge, destination?: string): number | undefined {
  const last = [...bridge.logs].reverse().find((l) => l.msg === ASSIGNED && (destination === undefined || l['destination'] === destination));
  return last ? Number(last['partitions']) : undefined;
}

/** The destinations whose consumers logged an assignment (one consumer group each). */
function destinationsOf(replicas: RunningBridge[]): string[] {
  return [...new Set(replicas.flatMap((r) => r.logs.filter((l) => l.msg === ASSIGNED).map((l) => String(l['destination']))))];
}

/** Waits until, in every destination's group, the replicas' last assignments cover `partitions` together (stable membership). */
export async function waitForStableGroup(replicas: RunningBridge[], partitions: number, timeoutMillis = 60_000): Promise<void> {
  const until = Date.now() + timeoutMillis;
  for (;;) {
    const destinations = destinationsOf(replicas);
    const owned = destinations.map((d) => replicas.map((r) => assignedPartitions(r, d)));
    if (destinations.length > 0 && owned.every((o) => o.every((n) => n !== undefined && n > 0) && o.reduce((a, b) => a! + b!, 0) === partitions)) return;
    if (Date.now() > until) {
      const tails = replicas.map((r) => r.logs.slice(-25).map((l) => `${String(l['time'])} ${l.msg} ${l['err'] ? JSON.stringify(l['err']).slice(0, 300) : ''}`).join('\n'));
      throw new Error(`group not stable: ${JSON.stringify(owned)}\n${tails.join('\n---\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export interface SplitTrace {
  traceId: string;
  generationId: string;
  first: unknown[];
  second: unknown[];
}

/** A trace sent in two requests: trace-create + generation-create, then generation-update. */
export function splitTrace(prefix: string, i: number, baseMillis: number): SplitTrace {
  const traceId = `${prefix}-t${i}`;
  const generationId = `${prefix}-g${i}`;
  const start = baseMillis + i;
  return {
    traceId,
    generationId,
    first: [
      { id: `${traceId}-e1`, type: 'trace-create', timestamp: iso(start), body: { id: traceId, name: `trace ${i}`, userId: 'u-1', timestamp: iso(start) } },
      {
        id: `${generationId}-e1`,
        type: 'generation-create',
        timestamp: iso(start),
        body: { id: generationId, traceId, name: 'llm', startTime: iso(start), model: 'gpt-4o', input: [{ role: 'user', content: `hi ${i}` }] },
      },
    ],
    second: [
      {
        id: `${generationId}-e2`,
        type: 'generation-update',
        timestamp: iso(start + 500),
        body: { id: generationId, traceId, endTime: iso(start + 500), output: { role: 'assistant', content: `hello ${i}` }, usage: { input: 10, output: 5, total: 15 } },
      },
    ],
  };
}

export interface Answer {
  status: number;
  retryAfter: string | null;
  millis: number;
}

export async function postBatch(url: string, batch: unknown[], timeoutMillis = 30_000): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${url}/api/public/ingestion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ batch, metadata: { sdk_name: 'python', sdk_version: '2.60.10' } }),
      signal: AbortSignal.timeout(timeoutMillis),
    });
    await res.arrayBuffer();
    return { status: res.status, retryAfter: res.headers.get('retry-after'), millis: Date.now() - started };
  } catch {
    return { status: 0, retryAfter: null, millis: Date.now() - started };
  }
}

/** What the collector holds for a set of split traces. */
export function checkExports(spans: CollectedSpan[], traces: SplitTrace[]) {
  const byObservation = new Map<string, CollectedSpan[]>();
  const bySpanId = new Map<string, CollectedSpan[]>();
  for (const span of spans) {
    const id = span.attributes['langfuse.observation.id'];
    if (typeof id === 'string') byObservation.set(id, [...(byObservation.get(id) ?? []), span]);
    bySpanId.set(span.spanId, [...(bySpanId.get(span.spanId) ?? []), span]);
  }
  const wanted = new Set(traces.map((t) => t.generationId));
  let missing = 0;
  let partial = 0;
  let twice = 0;
  let differentCopies = 0;
  for (const t of traces) {
    const copies = byObservation.get(t.generationId) ?? [];
    if (copies.length === 0) missing++;
    if (copies.length > 1) twice++;
    for (const span of copies) {
      const whole = span.attributes['gen_ai.request.model'] === 'gpt-4o' && span.attributes['gen_ai.usage.input_tokens'] === 10 && span.endTimeUnixNano !== span.startTimeUnixNano;
      if (!whole) partial++;
    }
    if (copies.length > 1 && new Set(copies.map(canonical)).size > 1) differentCopies++;
  }
  const traceIds = new Set(traces.map((t) => t.traceId));
  const rootsPerTrace = new Map<string, number>();
  for (const span of spans) {
    if (span.parentSpanId) continue;
    rootsPerTrace.set(span.traceId, (rootsPerTrace.get(span.traceId) ?? 0) + 1);
  }
  const generationSpans = [...byObservation.entries()].filter(([id]) => wanted.has(id)).flatMap(([, s]) => s);
  return {
    missing,
    partial,
    twice,
    differentCopies,
    spanIdsTwice: [...bySpanId.values()].filter((s) => s.length > 1).length,
    generationSpans: generationSpans.length,
    traces: traceIds.size,
    tracesWithOneRoot: [...rootsPerTrace.values()].filter((n) => n === 1).length,
    tracesWithManyRoots: [...rootsPerTrace.values()].filter((n) => n > 1).length,
  };
}

function canonical(span: CollectedSpan): string {
  const attributes = Object.entries(span.attributes).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([span.spanId, span.parentSpanId, span.name, span.startTimeUnixNano, span.endTimeUnixNano, attributes, span.status]);
}

export async function waitUntil(check: () => boolean, timeoutMillis: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMillis;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Sends every trace's two requests, round-robin over `urls()` (re-read at each request), as
 * `concurrency` clients; a request that is not answered 207 is sent again to the next replica,
 * as an SDK retries, until `deadline`. Returns the traces whose both requests were acknowledged.
 */
export async function sendRoundRobin(
  urls: () => string[],
  traces: SplitTrace[],
  options: { concurrency: number; pauseMillis?: number; onAnswer?: (answer: Answer, at: number) => void; deadlineMillis?: number },
): Promise<SplitTrace[]> {
  let next = 0;
  const acknowledged: SplitTrace[] = [];
  const deadline = options.deadlineMillis ?? Date.now() + 120_000;
  const send = async (batch: unknown[]): Promise<boolean> => {
    while (Date.now() < deadline) {
      const list = urls();
      const answer = await postBatch(list[next++ % list.length]!, batch, 15_000);
      options.onAnswer?.(answer, Date.now());
      if (answer.status === 207) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  };
  for (let i = 0; i < traces.length; i += options.concurrency) {
    const slice = traces.slice(i, i + options.concurrency);
    const firsts = await Promise.all(slice.map((t) => send(t.first)));
    const seconds = await Promise.all(slice.map((t) => send(t.second)));
    slice.forEach((t, j) => {
      if (firsts[j] && seconds[j]) acknowledged.push(t);
    });
    if (options.pauseMillis) await new Promise((r) => setTimeout(r, options.pauseMillis));
  }
  return acknowledged;
}

/** The partition Java clients and kafkajs put a key in (murmur2), as the replicas' producers do. */
export function partitionOf(key: string, partitions: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  return partitioner({
    topic: 't',
    partitionMetadata: Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] })),
    message: { key, value: null },
  });
}

/** When a replica owned which partitions, from its log lines: [from, to) per partition. */
export function ownership(bridge: RunningBridge, destination?: string): Array<{ partition: number; fromMillis: number; toMillis: number }> {
  const spans: Array<{ partition: number; fromMillis: number; toMillis: number }> = [];
  let open = new Map<number, number>();
  const close = (at: number) => {
    for (const [partition, from] of open) spans.push({ partition, fromMillis: from, toMillis: at });
    open = new Map();
  };
  for (const log of bridge.logs) {
    if (destination !== undefined && log['destination'] !== destination) continue;
    const at = Date.parse(String(log['time']));
    if (log.msg === 'partitions revoked: the group is rebalancing') close(at);
    if (log.msg === ASSIGNED) {
      close(at);
      for (const p of log['owned'] as number[]) open.set(p, at);
    }
  }
  close(bridge.isRunning() ? Infinity : Date.now());
  return spans;
}
