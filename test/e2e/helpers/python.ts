/**
 * Run the Python client scripts in scripts/e2e/ with the provisioned venvs: `legacy`
 * (.e2e-cache/venv: LiteLLM 1.103.11 + Langfuse SDK v2, ingestion API) or `current`
 * (.e2e-cache/venv-current: the newest LiteLLM + Langfuse SDK 4.x, OTLP).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { LANGFUSE_SDK_SCRIPT, LITELLM_SCRIPT, REPO_ROOT, VENV_CURRENT_PYTHON, VENV_PYTHON } from './paths.js';
import { baseEnv, runToCompletion } from './process.js';

export type Venv = 'legacy' | 'current';

function venvPython(venv: Venv): string {
  const python = venv === 'legacy' ? VENV_PYTHON : VENV_CURRENT_PYTHON;
  if (!fs.existsSync(python)) {
    throw new Error(`Python venv not found at ${python}: run \`bash scripts/provision-e2e.sh\` first`);
  }
  return python;
}

export function assertVenvProvisioned(venv: Venv = 'legacy'): void {
  venvPython(venv);
}

/** One event as summarized by litellm_scenarios.py (the fields it sent). */
export interface SentEvent {
  type: string;
  eventId?: string;
  id?: string;
  traceId?: string | null;
  name?: string;
  parentObservationId?: string;
  level?: string;
  statusMessage?: string;
  model?: string;
  usage?: { input?: number; output?: number; totalCost?: number };
  usageDetails?: Record<string, number>;
  startTime?: string;
  endTime?: string;
  completionStartTime?: string;
  userId?: string;
  sessionId?: string;
  tags?: string[];
}

export interface IngestionPost {
  events: SentEvent[];
  metadata?: Record<string, unknown>;
  status?: number;
  errors?: unknown[] | null;
  successes?: number | null;
  exception?: string;
  body?: string;
  /** Epoch seconds when the SDK started the POST and when it returned. */
  sentAt?: number;
  doneAt?: number;
}

/** One span as a current client handed it to its OTLP exporter (ids in lower-case hex). */
export interface SentSpan {
  name: string;
  traceId: string;
  spanId: string;
  /** '' when the span has no parent. */
  parentSpanId: string;
  kind: string;
  startTimeUnixNano: number;
  endTimeUnixNano: number;
  status: { code: string; message: string | null };
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** One export call of a current client: its spans and the exporter's verdict. */
export interface OtlpExport {
  exporter: string;
  spans: SentSpan[];
  /** SpanExportResult name: SUCCESS or FAILURE. */
  result?: string;
  exception?: string;
  sentAt?: number;
  doneAt?: number;
}

export interface LitellmResult {
  run: string;
  callback: string;
  scenarios: Record<string, Record<string, unknown> & { traceId: string; traceName: string }>;
  ingestion: IngestionPost[];
  otlp: OtlpExport[];
  errors: Array<{ scenario: string; error: string }>;
  seconds: number;
  versions: Record<string, string | null>;
}

/** Run a script with a venv and parse its `E2E_RESULT {json}` line. */
async function runScript<T>(opts: {
  venv: Venv;
  script: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs: number;
}): Promise<T & { output: string }> {
  const res = await runToCompletion({
    name: opts.script.split('/').pop()!.replace(/\.py$/, ''),
    command: venvPython(opts.venv),
    args: [opts.script, ...opts.args],
    cwd: REPO_ROOT,
    timeoutMs: opts.timeoutMs,
    env: baseEnv({ ...opts.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }),
  });
  const line = res.lines.find((l) => l.startsWith('E2E_RESULT '));
  if (line === undefined) {
    throw new Error(`${opts.script} printed no result (exit ${res.code}, signal ${res.signal}):\n${res.lines.slice(-60).join('\n')}`);
  }
  return { ...(JSON.parse(line.slice('E2E_RESULT '.length)) as T), output: res.output };
}

/**
 * The OTel trace id the current LiteLLM uses for a `trace_id` it is given
 * (litellm.integrations.langfuse.langfuse_sdk.resolve_trace_id): 32 hex digits (dashes
 * removed) as is, anything else the first 16 bytes of its SHA-256.
 */
export function litellmOtelTraceId(traceId: string): string {
  const normalized = traceId.toLowerCase().replace(/-/g, '');
  if (/^[0-9a-f]{32}$/.test(normalized)) return normalized;
  return createHash('sha256').update(traceId, 'utf8').digest('hex').slice(0, 32);
}

export async function runLitellmScenarios(opts: {
  langfuseHost: string;
  publicKey: string;
  secretKey: string;
  run: string;
  only?: string[];
  /** Default: legacy (LiteLLM 1.103.11). */
  venv?: Venv;
  /** Only with the current venv: `langfuse` (default) or `langfuse_otel`. */
  callback?: 'langfuse' | 'langfuse_otel';
  timeoutMs?: number;
}): Promise<LitellmResult & { output: string }> {
  const args = ['--run', opts.run];
  if (opts.only && opts.only.length > 0) args.push('--only', opts.only.join(','));
  if (opts.callback !== undefined) args.push('--callback', opts.callback);
  return runScript<LitellmResult>({
    venv: opts.venv ?? 'legacy',
    script: LITELLM_SCRIPT,
    args,
    timeoutMs: opts.timeoutMs ?? 240_000,
    env: {
      LANGFUSE_HOST: opts.langfuseHost,
      LANGFUSE_PUBLIC_KEY: opts.publicKey,
      LANGFUSE_SECRET_KEY: opts.secretKey,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
    },
  });
}

export interface LangfuseSdkResult {
  run: string;
  /** What the script created: trace id and the observations' span ids, by name. */
  trace: { traceId: string; traceName: string; userId: string; sessionId: string; tags: string[] };
  observations: Record<string, { spanId: string; type: string; model?: string; usage?: Record<string, number>; cost?: Record<string, number> }>;
  scores: Array<{ name: string; value: number | string; observation?: string; id?: string }>;
  otlp: OtlpExport[];
  errors: Array<{ scenario: string; error: string }>;
  versions: Record<string, string | null>;
}

/** scripts/e2e/langfuse_sdk_scenarios.py: the Langfuse Python SDK 4.x (@observe) on its own. */
export async function runLangfuseSdkScenarios(opts: {
  langfuseHost: string;
  publicKey: string;
  secretKey: string;
  run: string;
  timeoutMs?: number;
}): Promise<LangfuseSdkResult & { output: string }> {
  return runScript<LangfuseSdkResult>({
    venv: 'current',
    script: LANGFUSE_SDK_SCRIPT,
    args: ['--run', opts.run],
    timeoutMs: opts.timeoutMs ?? 120_000,
    env: {
      LANGFUSE_HOST: opts.langfuseHost,
      LANGFUSE_PUBLIC_KEY: opts.publicKey,
      LANGFUSE_SECRET_KEY: opts.secretKey,
      LANGFUSE_TRACING_ENVIRONMENT: 'e2e',
      LANGFUSE_RELEASE: `e2e-${opts.run}`,
    },
  });
}
