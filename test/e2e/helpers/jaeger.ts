/**
 * Start/stop Jaeger v2 (built by scripts/provision-e2e.sh) on loopback, and query it.
 */
import fs from 'node:fs';
import { JAEGER_BIN, JAEGER_TEST_CONFIG, REPO_ROOT } from './paths.js';
import { freePorts } from './ports.js';
import { ManagedProcess, baseEnv, sleep } from './process.js';
import { flattenTraces, renderTree, type FlatSpan, type OtlpTracesData } from './otlp.js';

export interface Jaeger {
  proc: ManagedProcess;
  /** Base URL of the query HTTP API, e.g. http://127.0.0.1:41234 */
  queryUrl: string;
  /** Base URL of the OTLP/HTTP receiver (POST {otlpHttpUrl}/v1/traces). */
  otlpHttpUrl: string;
  /** host:port of the OTLP/gRPC receiver. */
  otlpGrpcEndpoint: string;
  stop(): Promise<void>;
}

export function assertJaegerProvisioned(): void {
  if (!fs.existsSync(JAEGER_BIN)) {
    throw new Error(`Jaeger binary not found at ${JAEGER_BIN}: run \`bash scripts/provision-e2e.sh\` first`);
  }
}

/** Start a storage+query Jaeger with scripts/e2e/jaeger-test.yaml on free loopback ports. */
export async function startJaeger(name = 'jaeger'): Promise<Jaeger> {
  assertJaegerProvisioned();
  const [otlpHttp, otlpGrpc, queryHttp, queryGrpc] = (await freePorts(4)) as [number, number, number, number];
  const proc = new ManagedProcess({
    name,
    command: JAEGER_BIN,
    args: ['--config', JAEGER_TEST_CONFIG],
    cwd: REPO_ROOT,
    // No OTEL_* variables: Jaeger's own tracer would pick them up (see jaeger-test.yaml).
    env: baseEnv({
      JAEGER_OTLP_HTTP_PORT: String(otlpHttp),
      JAEGER_OTLP_GRPC_PORT: String(otlpGrpc),
      JAEGER_QUERY_HTTP_PORT: String(queryHttp),
      JAEGER_QUERY_GRPC_PORT: String(queryGrpc),
      JAEGER_LOG_LEVEL: process.env.E2E_JAEGER_LOG_LEVEL ?? 'info',
    }),
  });
  const jaeger: Jaeger = {
    proc,
    queryUrl: `http://127.0.0.1:${queryHttp}`,
    otlpHttpUrl: `http://127.0.0.1:${otlpHttp}`,
    otlpGrpcEndpoint: `127.0.0.1:${otlpGrpc}`,
    stop: async () => {
      await proc.stop();
    },
  };
  try {
    await proc.waitForLine((l) => l.includes('Everything is ready'), 30_000, 'Jaeger to start');
    await waitFor(async () => (await fetch(`${jaeger.queryUrl}/api/services`)).ok, 10_000, 'Jaeger query API');
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return jaeger;
}

/**
 * Start Jaeger as a plain OpenTelemetry Collector with an arbitrary collector config (e.g. the
 * project's collector-config.yaml). Readiness = the "Everything is ready" log line.
 */
export async function startJaegerAsCollector(
  name: string,
  configPath: string,
  env: Record<string, string>,
): Promise<ManagedProcess> {
  assertJaegerProvisioned();
  const proc = new ManagedProcess({
    name,
    command: JAEGER_BIN,
    args: ['--config', configPath],
    cwd: REPO_ROOT,
    env: baseEnv(env),
  });
  try {
    await proc.waitForLine((l) => l.includes('Everything is ready'), 30_000, `${name} to start`);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      lastErr = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

/** GET /api/v3/traces/{traceId}: the trace as OTLP JSON, or null when Jaeger has none (404). */
export async function getTraceV3(queryUrl: string, traceId: string): Promise<FlatSpan[] | null> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /api/v3/traces/${traceId}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { result?: OtlpTracesData };
  return flattenTraces(body.result ?? {});
}

/** GET /api/traces/{traceId} (the UI's v1 JSON): the raw body, or null on 404. */
export async function getTraceV1(queryUrl: string, traceId: string): Promise<V1Trace | null> {
  const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET /api/traces/${traceId}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { data?: V1Trace[] };
  return body.data?.[0] ?? null;
}

export interface V1Trace {
  traceID: string;
  spans: Array<{
    spanID: string;
    operationName: string;
    references: Array<{ refType: string; spanID: string }>;
    tags: Array<{ key: string; type: string; value: unknown }>;
    processID: string;
  }>;
  processes: Record<string, { serviceName: string; tags: unknown[] }>;
}

export async function listServices(queryUrl: string): Promise<string[]> {
  const res = await fetch(`${queryUrl}/api/v3/services`);
  if (!res.ok) throw new Error(`GET /api/v3/services: ${res.status}`);
  const body = (await res.json()) as { services?: string[] };
  return body.services ?? [];
}

export interface WaitTraceOptions {
  /** The trace is "complete" when this returns true (default: it has a root span). */
  until?: (spans: FlatSpan[]) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Poll /api/v3/traces/{traceId} until the trace exists and `until(spans)` holds. On timeout
 * the error shows what Jaeger had (or that it had nothing).
 */
export async function waitForTrace(queryUrl: string, traceId: string, opts: WaitTraceOptions = {}): Promise<FlatSpan[]> {
  const until = opts.until ?? ((spans) => spans.some((s) => s.parentSpanId === ''));
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const deadline = Date.now() + timeoutMs;
  let last: FlatSpan[] | null = null;
  for (;;) {
    last = await getTraceV3(queryUrl, traceId);
    if (last !== null && until(last)) return last;
    if (Date.now() > deadline) break;
    await sleep(opts.intervalMs ?? 200);
  }
  throw new Error(
    `trace ${traceId} not complete in Jaeger after ${timeoutMs} ms; ` +
      (last === null ? 'Jaeger has no such trace' : `Jaeger has ${last.length} span(s):\n${renderTree(last)}`),
  );
}

/** POST an OTLP JSON payload to an OTLP/HTTP receiver. */
export async function postOtlpJson(otlpHttpUrl: string, payload: unknown): Promise<Response> {
  return fetch(`${otlpHttpUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
  });
}
