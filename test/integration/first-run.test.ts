// A first run, with the real process: with nothing listening at the OTLP endpoint the log says
// once what to set and does not repeat itself on every retry (the metrics count every attempt);
// with OTEL_TRACES_EXPORTER=console the seed batch prints as one tree, the root first, the
// generation indented under it, although the root is exported after the generation was queued.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { startBridge, stopAllBridges, stopBridge, type BridgeLog } from '../helpers/bridge-process.js';
import { litellmBatches } from '../helpers/ingestion-events.js';
import { postIngestion, waitUntil } from '../helpers/litellm-traffic.js';
import { hasSharedFixtures, SHARED_FIXTURES } from '../helpers/shared-fixtures.js';

const dirs: string[] = [];
const dataDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-first-run-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => stopAllBridges());
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const WARN = 40;
const exportWarnings = (logs: BridgeLog[]) => logs.filter((l) => l.level >= WARN && l['destination'] !== undefined);

it('with no backend: one warning that names what to set, no line per retry, every attempt counted', async () => {
  const bridge = await startBridge({ dataDir: dataDir(), collectorUrl: 'http://127.0.0.1:9/v1/traces' });
  for (const batch of litellmBatches(`first-run-${Date.now()}`, 3, 3)) expect((await postIngestion(bridge.url, batch)).kind).toBe('answer');
  const failures = async () => {
    const text = await (await fetch(`${bridge.url}/metrics`)).text();
    return [...text.matchAll(/^bridge_export_failures_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
  };
  // The worker backs off 0.5 s, 1 s, 2 s, …: five attempts within about 8 s.
  expect(await waitUntil(async () => (await failures()) >= 5, 30_000, 200)).toBe(true);
  const warnings = exportWarnings(bridge.logs);
  expect(warnings.length).toBeLessThanOrEqual(3);
  const naming = warnings.filter((w) => w.msg.includes('OTEL_EXPORTER_OTLP_ENDPOINT'));
  expect(naming).toHaveLength(1);
  expect(naming[0]!.msg).toContain('BRIDGE_CONFIG');
  expect(naming[0]!.msg).toContain('OTEL_TRACES_EXPORTER=console');
  expect(naming[0]!.msg).toContain('http://127.0.0.1:9/v1/traces');
  expect(await failures()).toBeGreaterThan(warnings.length);
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
}, 60_000);

it.skipIf(!hasSharedFixtures)('with the console exporter: the seed batch prints as one tree, root first, the generation under it', async () => {
  const bridge = await startBridge({ dataDir: dataDir(), collectorUrl: 'http://127.0.0.1:9/v1/traces', env: { OTEL_TRACES_EXPORTER: 'console' } });
  const seed = JSON.parse(readFileSync(path.join(SHARED_FIXTURES, 'seed', 'litellm-trace-and-generation.json'), 'utf8')) as { batch: unknown[] };
  const answer = await fetch(`${bridge.url}/api/public/ingestion`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(seed) });
  expect(answer.status).toBe(207);
  const printed = () => bridge.logs.filter((l) => l.level === 0).map((l) => l.msg);
  // The root leaves once the trace is idle (BRIDGE_TRACE_IDLE_MS=200 here), after the generation.
  expect(await waitUntil(() => printed().some((line) => line.includes('test_trace_name  [INTERNAL]')), 20_000, 50)).toBe(true);
  expect(await stopBridge(bridge)).toEqual({ code: 0, signal: null });
  const lines = printed();
  expect(lines.filter((line) => line.startsWith('trace '))).toHaveLength(1);
  const spanLines = lines.filter((line) => /\[(INTERNAL|CLIENT)\]/.test(line));
  expect(spanLines).toHaveLength(2);
  expect(spanLines[0]).toMatch(/^└─ test_trace_name {2}\[INTERNAL\]/);
  expect(spanLines[1]).toMatch(/^ {3}└─ chat gpt-3\.5-turbo {2}\[CLIENT\]/);
  // LiteLLM names a parent observation it never sends: shown under the root, and said so.
  expect(spanLines[1]).toContain('not sent');
}, 60_000);
