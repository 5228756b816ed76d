/**
 * Issue 18 with real clients: LiteLLM 1.103.11 (its `langfuse` callback, the Langfuse Python SDK v2)
 * run twice with two teams' key pairs — LiteLLM's team-based logging — and the same client-chosen
 * trace id (`metadata.trace_id`), into a bridge with a `tenants:` list, exporting to Jaeger v2.
 * Jaeger gets two traces, one per team, each whole (root and generation) and carrying its team in
 * the `langfuse.tenant` resource attribute; a third, unknown key pair gets nothing in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTraceId } from '../../src/export/ids.js';
import { startBridge, type Bridge } from './helpers/bridge.js';
import { getTraceV3, startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { renderTree } from './helpers/otlp.js';
import { runLitellmScenarios, type LitellmResult } from './helpers/python.js';

const TEAMS = {
  'team-a': { publicKey: 'pk-lf-e2e-team-a', secretKey: 'sk-lf-e2e-team-a-secret' },
  'team-b': { publicKey: 'pk-lf-e2e-team-b', secretKey: 'sk-lf-e2e-team-b-secret' },
} as const;
type Team = keyof typeof TEAMS;

describe('LiteLLM team-based logging → bridge with tenants → Jaeger', () => {
  let jaeger: Jaeger;
  let bridge: Bridge;
  let configDir: string;
  const results = new Map<Team | 'unknown', LitellmResult>();
  // The same run id for both teams: the same Langfuse trace id.
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    jaeger = await startJaeger('jaeger-tenants');
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-e2e-tenants-'));
    const config = path.join(configDir, 'bridge.yaml');
    fs.writeFileSync(
      config,
      [
        'tenants:',
        `  - { name: team-a, public_key: ${TEAMS['team-a'].publicKey}, secret_key: '\${env:TEAM_A_SECRET}' }`,
        `  - { name: team-b, public_key: ${TEAMS['team-b'].publicKey}, secret_key: '\${env:TEAM_B_SECRET}' }`,
        'destinations:',
        '  - name: jaeger',
        '    type: otlp',
        `    endpoint: ${jaeger.otlpHttpUrl}`,
        "    headers: { X-Scope-OrgID: '${tenant}' }",
        '',
      ].join('\n'),
    );
    // The tenants list replaces the env pair; 3 s idle: LiteLLM's client flushes every second.
    bridge = await startBridge({
      otlpEndpoint: 'http://127.0.0.1:9',
      name: 'bridge-tenants',
      traceIdleMs: 3000,
      env: {
        BRIDGE_CONFIG: config,
        LANGFUSE_PUBLIC_KEY: undefined,
        LANGFUSE_SECRET_KEY: undefined,
        TEAM_A_SECRET: TEAMS['team-a'].secretKey,
        TEAM_B_SECRET: TEAMS['team-b'].secretKey,
      },
    });
    for (const team of ['team-a', 'team-b'] as const) {
      results.set(team, await runLitellmScenarios({ langfuseHost: bridge.url, ...TEAMS[team], run, only: ['tools'] }));
    }
    results.set('unknown', await runLitellmScenarios({ langfuseHost: bridge.url, publicKey: 'pk-lf-e2e-team-c', secretKey: 'sk-lf-e2e-team-c', run, only: ['tools'] }));
  });

  afterAll(async () => {
    if (bridge) expect(await bridge.stop(), 'bridge exit on SIGTERM').toEqual({ code: 0, signal: null });
    await jaeger?.stop();
    if (configDir) fs.rmSync(configDir, { recursive: true, force: true });
  });

  const langfuseTraceId = (team: Team | 'unknown') => {
    const s = results.get(team)?.scenarios['tools'];
    if (s === undefined) throw new Error(`scenario tools did not run for ${team}: ${JSON.stringify(results.get(team)?.errors)}`);
    return String(s.traceId);
  };

  it('the same trace id from two teams is two whole traces, each with its team', async () => {
    expect(langfuseTraceId('team-a')).toBe(langfuseTraceId('team-b'));
    const traceIds = new Set<string>();
    for (const team of ['team-a', 'team-b'] as const) {
      const traceId = toTraceId(langfuseTraceId(team), team);
      traceIds.add(traceId);
      const spans = await waitForTrace(jaeger.queryUrl, traceId, { until: (x) => x.length >= 2 && x.some((s) => s.parentSpanId === ''), timeoutMs: 30_000 });
      const tree = renderTree(spans);
      expect(spans, tree).toHaveLength(2);
      for (const span of spans) expect(span.resource['langfuse.tenant'], tree).toBe(team);
      expect(spans.map((s) => s.name).sort(), tree).toEqual([`e2e-tools-${run}`, 'chat gpt-4o'].sort());
    }
    expect(traceIds.size).toBe(2);
    // Nothing under the id the trace would have without tenants.
    expect(await getTraceV3(jaeger.queryUrl, toTraceId(langfuseTraceId('team-a')))).toBeNull();
  });

  it('a third, unknown key pair gets nothing in (401)', async () => {
    const metrics = await (await fetch(`${bridge.url}/metrics`)).text();
    const refused = /bridge_requests_rejected_total\{reason="unauthorized"\} (\d+)/.exec(metrics);
    expect(Number(refused?.[1] ?? 0), metrics.slice(0, 2000)).toBeGreaterThan(0);
    // Only the two teams' events were accepted.
    expect(metrics).toMatch(/bridge_tenant_events_accepted_total\{tenant="team-a"\} [1-9]/);
    expect(metrics).toMatch(/bridge_tenant_events_accepted_total\{tenant="team-b"\} [1-9]/);
    expect(metrics).not.toMatch(/bridge_tenant_events_accepted_total\{tenant="default"\}/);
  });
});
