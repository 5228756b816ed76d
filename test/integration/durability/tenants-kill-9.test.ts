// Issue 18 (5): `kill -9` of the real process with two tenants that use the same Langfuse ids, and
// restarts on the same data directory: every tenant's data stays in its own place. Before the
// first kill, both tenants' generations are open (assembly state, rebuilt from the log at restart)
// and a first trace of each is complete but its backends are down (queued on disk, per tenant
// lane). After the restart each tenant ends its own generation: it merges with its own create,
// never with the other tenant's. The OTLP sink gets each tenant on its own requests
// (X-Scope-OrgID), the fake Langfuse under each tenant's own key pair.
import { expect, it } from 'vitest';
import { toTraceId } from '../../../src/export/ids.js';
import { startBridge, type RunningBridge } from '../../helpers/bridge-process.js';
import { startFakeCollector, type CollectedSpan } from '../../helpers/fake-collector.js';
import { startFakeLangfuse } from '../../helpers/fake-langfuse.js';
import { scenarioResources, summarise, waitUntil } from '../../helpers/litellm-traffic.js';

const scenario = scenarioResources('bridge-tenants-kill9-');
const TENANTS = {
  'team-a': { publicKey: 'pk-lf-kill-a', secretKey: 'sk-lf-kill-a-secret' },
  'team-b': { publicKey: 'pk-lf-kill-b', secretKey: 'sk-lf-kill-b-secret' },
} as const;
type Tenant = keyof typeof TENANTS;
const basic = (t: Tenant) => `Basic ${Buffer.from(`${TENANTS[t].publicKey}:${TENANTS[t].secretKey}`).toString('base64')}`;

async function ingest(bridge: RunningBridge, tenant: Tenant, batch: unknown[]): Promise<number> {
  const res = await fetch(`${bridge.url}/api/public/ingestion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: basic(tenant) },
    body: JSON.stringify({ batch, metadata: { sdk_integration: 'litellm' } }),
  });
  await res.text();
  return res.status;
}

const at = (seconds: number) => new Date(Date.parse('2026-11-26T12:00:00Z') + seconds * 1000).toISOString();

/** A complete trace `done` and an open generation `open-gen` of trace `open`: the same ids for both tenants. */
function beforeKill(tenant: Tenant): unknown[] {
  return [
    { id: `${tenant}-1`, type: 'trace-create', timestamp: at(0), body: { id: 'done', name: `done-${tenant}` } },
    { id: `${tenant}-2`, type: 'generation-create', timestamp: at(0), body: { id: 'done-gen', traceId: 'done', model: 'gpt-4o', startTime: at(0), endTime: at(1), output: `done by ${tenant}` } },
    { id: `${tenant}-3`, type: 'trace-create', timestamp: at(2), body: { id: 'open', name: `open-${tenant}` } },
    { id: `${tenant}-4`, type: 'generation-create', timestamp: at(2), body: { id: 'open-gen', traceId: 'open', model: 'gpt-4o', startTime: at(2), input: `asked by ${tenant}` } },
  ];
}

function afterKill(tenant: Tenant): unknown[] {
  return [{ id: `${tenant}-5`, type: 'generation-update', timestamp: at(4), body: { id: 'open-gen', traceId: 'open', endTime: at(4), output: `answered to ${tenant}` } }];
}

it('kill -9 with two tenants sharing ids: after restarts each tenant\'s traces are whole, separate and in its own place', async () => {
  const started = Date.now();
  const collector = scenario.track(await startFakeCollector({ kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down' }));
  const langfuse = scenario.track(await startFakeLangfuse(TENANTS['team-a'], [TENANTS['team-b']]));
  langfuse.answerTracesWith(503);
  langfuse.answerScoresWith(503);
  const config = scenario.writeBridgeConfig(`
tenants:
  - { name: team-a, public_key: ${TENANTS['team-a'].publicKey}, secret_key: '\${env:TEAM_A_SECRET}' }
  - { name: team-b, public_key: ${TENANTS['team-b'].publicKey}, secret_key: '\${env:TEAM_B_SECRET}' }
destinations:
  - { name: tempo, type: otlp, traces_endpoint: '${collector.url}', timeout: 2s, headers: { X-Scope-OrgID: '\${tenant}' } }
  - { name: langfuse, type: langfuse, endpoint: '${langfuse.baseUrl}', timeout: 2s, credentials: tenant }
`);
  const options = {
    dataDir: scenario.makeDataDir(),
    collectorUrl: 'http://127.0.0.1:9/v1/traces',
    env: { BRIDGE_CONFIG: config, TEAM_A_SECRET: TENANTS['team-a'].secretKey, TEAM_B_SECRET: TENANTS['team-b'].secretKey, BRIDGE_TRACE_IDLE_MS: '300' },
  };
  let bridge = await startBridge(options);
  for (const tenant of ['team-a', 'team-b'] as const) expect(await ingest(bridge, tenant, beforeKill(tenant))).toBe(207);
  // The complete trace is queued (the backends are down, so it waits on disk) once it is idle.
  expect(await waitUntil(() => collector.requests.length > 0 && langfuse.traceRequests.length > 0, 10_000)).toBe(true);
  bridge.signal('SIGKILL');
  expect(await bridge.exited).toEqual({ code: null, signal: 'SIGKILL' });

  // Restart with the backends up: the queued trace goes out; the open generations wait for their end.
  collector.setBehaviour({ kind: 'ok' });
  // Only what the backends accepted counts from here on.
  const acceptedFrom = collector.requests.length;
  const accepted = () => collector.requests.slice(acceptedFrom).flatMap((r) => r.spans);
  langfuse.answerTracesWith(200);
  langfuse.answerScoresWith(200);
  bridge = await startBridge(options);
  await bridge.ready;
  for (const tenant of ['team-a', 'team-b'] as const) expect(await ingest(bridge, tenant, afterKill(tenant))).toBe(207);
  // Killed again as soon as both open traces reached the sink (their roots follow their generations).
  const spansOf = (tenant: Tenant) => accepted().filter((s) => s.resource['langfuse.tenant'] === tenant);
  const whole = () => (['team-a', 'team-b'] as const).every((t) => new Set(spansOf(t).map((s) => s.spanId)).size === 4);
  expect(await waitUntil(whole, 15_000)).toBe(true);
  bridge.signal('SIGKILL');
  await bridge.exited;
  // A last start on the same directory sends nothing new under another tenant (what it resends is the last moments' own spans).
  bridge = await startBridge(options);
  await bridge.ready;
  await new Promise((r) => setTimeout(r, 1000));

  for (const req of collector.requests.filter((r) => r.spans.length > 0)) {
    expect(new Set(req.spans.map((s) => s.resource['langfuse.tenant']))).toEqual(new Set([req.headers['x-scope-orgid']]));
  }
  const byName = (spans: CollectedSpan[], name: string) => spans.find((s) => s.name === name);
  for (const tenant of ['team-a', 'team-b'] as const) {
    const spans = spansOf(tenant);
    expect(new Set(spans.map((s) => s.name))).toEqual(new Set([`done-${tenant}`, `open-${tenant}`, 'text_completion gpt-4o']));
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([toTraceId('done', tenant), toTraceId('open', tenant)]));
    const openGen = spans.find((s) => s.traceId === toTraceId('open', tenant) && s.name === 'text_completion gpt-4o')!;
    expect(JSON.stringify(openGen.attributes)).toContain(`asked by ${tenant}`);
    expect(JSON.stringify(openGen.attributes)).toContain(`answered to ${tenant}`);
    const other = tenant === 'team-a' ? 'team-b' : 'team-a';
    expect(JSON.stringify(spans)).not.toContain(`by ${other}`);
    expect(JSON.stringify(spans)).not.toContain(`to ${other}`);
    expect(byName(spans, `open-${tenant}`)?.parentSpanId).toBeUndefined();
    // Langfuse: this tenant's project got exactly this tenant's spans.
    const lf = langfuse.traceRequests.filter((r) => r.status === 200 && r.project === TENANTS[tenant].publicKey).flatMap((r) => r.spans);
    expect(new Set(lf.map((s) => s.resource['langfuse.tenant']))).toEqual(new Set([tenant]));
    expect(new Set(lf.map((s) => s.traceId))).toEqual(new Set([toTraceId('done', tenant), toTraceId('open', tenant)]));
  }
  summarise('tenants kill -9', {
    elapsedMillis: Date.now() - started,
    otlpRequests: collector.requests.length,
    langfuseRequests: langfuse.traceRequests.length,
    spansAccepted: accepted().length,
  });
}, 60_000);
