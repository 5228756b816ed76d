/**
 * Run the Python client scripts in scripts/e2e/ with the provisioned venv.
 */
import fs from 'node:fs';
import { LITELLM_SCRIPT, REPO_ROOT, VENV_PYTHON } from './paths.js';
import { baseEnv, runToCompletion } from './process.js';

export function assertVenvProvisioned(): void {
  if (!fs.existsSync(VENV_PYTHON)) {
    throw new Error(`Python venv not found at ${VENV_PYTHON}: run \`bash scripts/provision-e2e.sh\` first`);
  }
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

export interface LitellmResult {
  run: string;
  scenarios: Record<string, Record<string, unknown> & { traceId: string; traceName: string }>;
  ingestion: IngestionPost[];
  errors: Array<{ scenario: string; error: string }>;
  seconds: number;
  versions: Record<string, string | null>;
}

export async function runLitellmScenarios(opts: {
  langfuseHost: string;
  publicKey: string;
  secretKey: string;
  run: string;
  only?: string[];
  timeoutMs?: number;
}): Promise<LitellmResult & { output: string }> {
  assertVenvProvisioned();
  const args = [LITELLM_SCRIPT, '--run', opts.run];
  if (opts.only && opts.only.length > 0) args.push('--only', opts.only.join(','));
  const res = await runToCompletion({
    name: 'litellm-scenarios',
    command: VENV_PYTHON,
    args,
    cwd: REPO_ROOT,
    timeoutMs: opts.timeoutMs ?? 240_000,
    env: baseEnv({
      LANGFUSE_HOST: opts.langfuseHost,
      LANGFUSE_PUBLIC_KEY: opts.publicKey,
      LANGFUSE_SECRET_KEY: opts.secretKey,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    }),
  });
  const line = res.lines.find((l) => l.startsWith('E2E_RESULT '));
  if (line === undefined) {
    throw new Error(`litellm_scenarios.py printed no result (exit ${res.code}, signal ${res.signal}):\n${res.lines.slice(-60).join('\n')}`);
  }
  const parsed = JSON.parse(line.slice('E2E_RESULT '.length)) as LitellmResult;
  return { ...parsed, output: res.output };
}
