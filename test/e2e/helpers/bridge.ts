/**
 * Start/stop the bridge (`node dist/main.js`) the way a user runs it, on loopback.
 *
 * Contract used here (issue 4): env BRIDGE_HOST/BRIDGE_PORT (0 = any free port),
 * BRIDGE_DATA_DIR, BRIDGE_TRACE_IDLE_MS, LANGFUSE_PUBLIC_KEY/SECRET_KEY,
 * OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces), BRIDGE_LOG_LEVEL; pino JSON lines on stdout, one
 * with "msg":"listening" and "url":"http://127.0.0.1:<port>"; SIGTERM → exit 0.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { BRIDGE_MAIN, REPO_ROOT } from './paths.js';
import { ManagedProcess, baseEnv, type ExitInfo } from './process.js';

export const E2E_PUBLIC_KEY = 'pk-lf-e2e-0123456789';
export const E2E_SECRET_KEY = 'sk-lf-e2e-0123456789';

export interface Bridge {
  proc: ManagedProcess;
  /** e.g. http://127.0.0.1:38211 */
  url: string;
  port: number;
  dataDir: string;
  publicKey: string;
  secretKey: string;
  /** Basic auth header value for the configured keys. */
  authHeader: string;
  /** SIGTERM, wait, remove the data dir; resolves with how the process exited. */
  stop(): Promise<ExitInfo>;
}

export interface BridgeOptions {
  /** Base URL of an OTLP/HTTP receiver; the bridge appends /v1/traces. */
  otlpEndpoint: string;
  name?: string;
  /** http/protobuf (default) or http/json. */
  protocol?: 'http/protobuf' | 'http/json';
  traceIdleMs?: number;
  /** Extra/override environment (undefined values are dropped). */
  env?: Record<string, string | undefined>;
  startTimeoutMs?: number;
}

export function assertBridgeBuilt(): void {
  const buildError = inject('bridgeBuildError');
  if (buildError) throw new Error(`the bridge did not build (\`npm run build\`):\n${buildError}`);
  if (!fs.existsSync(BRIDGE_MAIN)) {
    throw new Error(
      `bridge not built: ${BRIDGE_MAIN} is missing (run \`npm run build\`)`,
    );
  }
}

export async function startBridge(opts: BridgeOptions): Promise<Bridge> {
  assertBridgeBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-e2e-'));
  const env = baseEnv({
    NODE_ENV: 'production',
    BRIDGE_HOST: '127.0.0.1',
    BRIDGE_PORT: '0',
    BRIDGE_DATA_DIR: dataDir,
    BRIDGE_TRACE_IDLE_MS: String(opts.traceIdleMs ?? 300),
    BRIDGE_LOG_LEVEL: process.env.E2E_BRIDGE_LOG_LEVEL ?? 'info',
    LANGFUSE_PUBLIC_KEY: E2E_PUBLIC_KEY,
    LANGFUSE_SECRET_KEY: E2E_SECRET_KEY,
    OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlpEndpoint,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: opts.protocol,
    ...opts.env,
  });
  const proc = new ManagedProcess({
    name: opts.name ?? 'bridge',
    command: process.execPath,
    args: [BRIDGE_MAIN],
    cwd: REPO_ROOT,
    env,
  });
  let url: string;
  try {
    const line = await proc.waitForLine(
      (l) => {
        const rec = parseJsonLine(l);
        return rec?.msg === 'listening' && typeof rec.url === 'string';
      },
      opts.startTimeoutMs ?? 20_000,
      'the "listening" log line',
    );
    url = String(parseJsonLine(line)?.url).replace(/\/$/, '');
    // Ingestion opens once the store is replayed.
    await proc.waitForLine((l) => parseJsonLine(l)?.msg === 'ready', opts.startTimeoutMs ?? 20_000, 'the "ready" log line');
  } catch (err) {
    await proc.stop('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const publicKey = env.LANGFUSE_PUBLIC_KEY ?? '';
  const secretKey = env.LANGFUSE_SECRET_KEY ?? '';
  return {
    proc,
    url,
    port: Number(new URL(url).port),
    dataDir,
    publicKey,
    secretKey,
    authHeader: 'Basic ' + Buffer.from(`${publicKey}:${secretKey}`).toString('base64'),
    stop: async () => {
      const exit = await proc.stop('SIGTERM', 15_000);
      fs.rmSync(dataDir, { recursive: true, force: true });
      return exit;
    },
  };
}

export function parseJsonLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The bridge's structured log records (pino lines), for assertions and failure messages. */
export function bridgeLogRecords(bridge: Bridge): Array<Record<string, unknown>> {
  return bridge.proc.lines.map(parseJsonLine).filter((r): r is Record<string, unknown> => r !== null);
}

/** POST a Langfuse ingestion batch to the bridge with the e2e keys. */
export async function postIngestion(bridgeUrl: string, authHeader: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${bridgeUrl}/api/public/ingestion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: authHeader },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed };
}
