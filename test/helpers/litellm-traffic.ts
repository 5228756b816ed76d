// Sending LiteLLM-shaped traffic (built in ingestion-events.ts) in the durability tests and what
// should come out of it: a POST that never rejects; a ledger of the envelope ids answered 201; and a fake collector wrapper that counts only spans
// it answered 200 (exported), to find missing and duplicated span ids.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { toSpanId } from '../../src/export/ids.js';
import { stopAllBridges } from './bridge-process.js';
import { startFakeCollector, type CollectedSpan, type CollectorBehaviour, type FakeCollector, type FakeCollectorTls } from './fake-collector.js';
import { ingestionBody, type Envelope } from './ingestion-events.js';

export type IngestAttempt =
  | { kind: 'answer'; status: number; retryAfter: string | null; contentType: string | null; body: unknown }
  | { kind: 'error'; message: string };

/** One POST to /api/public/ingestion; never rejects. */
export async function postIngestion(baseUrl: string, batch: readonly Envelope[], timeoutMillis = 10_000): Promise<IngestAttempt> {
  try {
    const res = await fetch(`${baseUrl}/api/public/ingestion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: ingestionBody(batch),
      signal: AbortSignal.timeout(timeoutMillis),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text; callers assert on it
    }
    return { kind: 'answer', status: res.status, retryAfter: res.headers.get('retry-after'), contentType: res.headers.get('content-type'), body };
  } catch (error) {
    return { kind: 'error', message: error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? '')}` : String(error) };
  }
}

/** What the clients sent and what the bridge acknowledged (201), and the spans that must follow. */
export class Ledger {
  readonly sent = new Map<string, Envelope>();
  readonly acknowledged = new Set<string>();
  /** Events answered 207 but not 201 (must stay empty with valid traffic). */
  readonly refused: unknown[] = [];

  /** Records an attempt's answer; returns whether every event of the batch was acknowledged. */
  record(batch: readonly Envelope[], attempt: IngestAttempt): boolean {
    for (const event of batch) this.sent.set(event.id, event);
    if (attempt.kind !== 'answer' || attempt.status !== 207) return false;
    const body = attempt.body as { successes?: Array<{ id: string; status: number }>; errors?: unknown[] };
    for (const success of body.successes ?? []) if (success.status === 201) this.acknowledged.add(success.id);
    this.refused.push(...(body.errors ?? []));
    return batch.every((e) => this.acknowledged.has(e.id));
  }

  /** Span id → what it is, for every acknowledged event (and the root of each trace it names). */
  expectedSpans(): Map<string, string> {
    const expected = new Map<string, string>();
    for (const id of this.acknowledged) {
      const event = this.sent.get(id);
      if (!event) continue;
      if (event.type === 'trace-create') {
        const traceId = String(event.body['id']);
        expected.set(toSpanId({ type: 'root', traceId }), `root of ${traceId}`);
      } else {
        const traceId = String(event.body['traceId']);
        expected.set(toSpanId({ type: 'observation', id: String(event.body['id']) }), `observation ${String(event.body['id'])}`);
        expected.set(toSpanId({ type: 'root', traceId }), `root of ${traceId}`);
      }
    }
    return expected;
  }

  acknowledgedEvents(): number {
    return this.acknowledged.size;
  }
}

export interface ExportedSpan {
  span: CollectedSpan;
  /** When the collector answered 200 for it (ms since the epoch). */
  atMillis: number;
}

export interface TrackedCollector {
  url: string;
  collector: FakeCollector;
  setBehaviour(behaviour: CollectorBehaviour): void;
  /** Called with each request's index before the collector answers; may return another behaviour. */
  onRequest(hook: ((index: number) => CollectorBehaviour | void) | undefined): void;
  /** Spans of the requests answered 200, by span id, in arrival order. */
  exported(): Map<string, ExportedSpan[]>;
  /** Requests answered with anything but 200 (the outage, as the bridge saw it). */
  failedAnswers(): number;
  close(): Promise<void>;
}

export async function startTrackedCollector(initial: CollectorBehaviour = { kind: 'ok' }, options: { tls?: FakeCollectorTls } = {}): Promise<TrackedCollector> {
  let behaviour = initial;
  let hook: ((index: number) => CollectorBehaviour | void) | undefined;
  const okAt = new Map<number, number>();
  let failed = 0;
  const collector = await startFakeCollector((index) => {
    const chosen = hook?.(index) ?? behaviour;
    if (chosen.kind === 'ok') okAt.set(index, Date.now());
    else failed++;
    return chosen;
  }, options);
  return {
    url: collector.url,
    collector,
    setBehaviour(next) {
      behaviour = next;
    },
    onRequest(next) {
      hook = next;
    },
    exported() {
      const out = new Map<string, ExportedSpan[]>();
      collector.requests.forEach((request, index) => {
        const atMillis = okAt.get(index);
        if (atMillis === undefined) return;
        for (const span of request.spans) {
          const list = out.get(span.spanId) ?? [];
          list.push({ span, atMillis });
          out.set(span.spanId, list);
        }
      });
      return out;
    },
    failedAnswers: () => failed,
    close: () => collector.close(),
  };
}

export interface ExportCheck {
  expected: number;
  exported: number;
  missing: string[];
  /** Span ids the collector accepted more than once. */
  duplicated: Array<{ spanId: string; times: number; sameContent: boolean; firstAtMillis: number }>;
}

/** Compares what must have been exported with what the collector accepted. */
export function checkExport(ledger: Ledger, collector: TrackedCollector): ExportCheck {
  const expected = ledger.expectedSpans();
  const exported = collector.exported();
  const missing = [...expected.entries()].filter(([spanId]) => !exported.has(spanId)).map(([spanId, what]) => `${spanId} (${what})`);
  const duplicated = [...exported.entries()]
    .filter(([, list]) => list.length > 1)
    .map(([spanId, list]) => ({
      spanId,
      times: list.length,
      sameContent: list.every((x) => spanContent(x.span) === spanContent(list[0]!.span)),
      firstAtMillis: list[0]!.atMillis,
    }));
  return { expected: expected.size, exported: exported.size, missing, duplicated };
}

/**
 * Exported child spans whose parent was exported too but does not cover them in time: a root
 * span must start at or before, and end at or after, each of its observations (DESIGN §4).
 */
export function uncoveredChildren(collector: TrackedCollector): string[] {
  const exported = collector.exported();
  const out: string[] = [];
  for (const [spanId, list] of exported) {
    const child = list[0]!.span;
    const parent = child.parentSpanId ? exported.get(child.parentSpanId)?.[0]?.span : undefined;
    if (!parent) continue;
    if (BigInt(parent.startTimeUnixNano) > BigInt(child.startTimeUnixNano) || BigInt(parent.endTimeUnixNano) < BigInt(child.endTimeUnixNano)) {
      out.push(`${spanId} [${child.startTimeUnixNano}, ${child.endTimeUnixNano}] outside its parent ${parent.spanId} [${parent.startTimeUnixNano}, ${parent.endTimeUnixNano}]`);
    }
  }
  return out;
}

/** Everything that makes a span what it is (ids, name, times, attributes, status, resource). */
export function spanContent(span: CollectedSpan): string {
  const sorted = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
  return JSON.stringify({
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: span.parentSpanId,
    name: span.name,
    kind: span.kind,
    start: span.startTimeUnixNano,
    end: span.endTimeUnixNano,
    attributes: sorted(span.attributes),
    status: span.status,
    resource: sorted(span.resource),
  });
}

/** Polls `check` every `intervalMillis` until it is true; false when `timeoutMillis` passed. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMillis: number, intervalMillis = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMillis));
  }
}

export function sleep(millis: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, millis));
}

/** A one-line summary for the test log (the report numbers). */
export function summarise(name: string, numbers: Record<string, unknown>): void {
  console.log(`[durability] ${name}: ${Object.entries(numbers).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')}`);
}

/** A destinations file with one `otlp` destination per collector, each its own traces URL. */
export function otlpDestinationsYaml(destinations: Record<string, string>, extra = ''): string {
  return [
    'destinations:',
    ...Object.entries(destinations).flatMap(([name, url]) => [`  - name: ${name}`, '    type: otlp', `    traces_endpoint: ${url}`, '    timeout: 2s']),
    extra,
  ].join('\n');
}

/**
 * The per-test resources of a durability scenario: tracked collectors, fake Langfuses and data
 * directories, all released (with every bridge process) after each test, pass or fail.
 */
export function scenarioResources(dataDirPrefix: string) {
  const closers: Array<() => Promise<void>> = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await stopAllBridges();
    await Promise.all(closers.splice(0).map((close) => close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return {
    async startCollector(initial?: CollectorBehaviour, options?: { tls?: FakeCollectorTls }): Promise<TrackedCollector> {
      const collector = await startTrackedCollector(initial, options);
      closers.push(() => collector.close());
      return collector;
    },
    /** Closes `resource` after the test (e.g. a fake Langfuse). */
    track<T extends { close(): Promise<void> }>(resource: T): T {
      closers.push(() => resource.close());
      return resource;
    },
    makeDataDir(): string {
      const dir = mkdtempSync(path.join(tmpdir(), dataDirPrefix));
      dirs.push(dir);
      return dir;
    },
    /** Writes a BRIDGE_CONFIG file into a temp directory of its own; returns its path. */
    writeBridgeConfig(yaml: string): string {
      const dir = mkdtempSync(path.join(tmpdir(), `${dataDirPrefix}config-`));
      dirs.push(dir);
      const file = path.join(dir, 'bridge.yaml');
      writeFileSync(file, yaml);
      return file;
    },
  };
}
