// Many teams through one bridge (issue 18), over HTTP with the real sinks: two tenants and an
// unknown key; the same Langfuse ids from both tenants become two traces; an OTLP sink on
// 127.0.0.1 sees X-Scope-OrgID per tenant on separate requests with the tenant resource attribute;
// a fake Langfuse sees each tenant's spans and scores under that tenant's own Basic auth; a
// destination limited to one tenant gets only that tenant's spans; a tenant past its rate gets 429
// while the other is served; metrics per tenant; secrets never reach the store or the log.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { toSpanId, toTraceId } from '../../src/export/ids.js';
import type { Logger } from '../../src/logger.js';
import { createSilentLogger } from '../helpers/silent-logger.js';
import { createService, type Service } from '../../src/service.js';
import { startFakeCollector, type CollectedSpan, type FakeCollector } from '../helpers/fake-collector.js';
import { startFakeLangfuse, type FakeLangfuse } from '../helpers/fake-langfuse.js';
import { postOtlp } from '../helpers/otlp-post.js';

const TEAM_A = { publicKey: 'pk-lf-team-a', secretKey: 'sk-lf-secret-of-team-a-5d2c' };
const TEAM_B = { publicKey: 'pk-lf-team-b', secretKey: 'sk-lf-secret-of-team-b-81fe' };
const basic = (k: { publicKey: string; secretKey: string }) => `Basic ${Buffer.from(`${k.publicKey}:${k.secretKey}`).toString('base64')}`;

/** The ids both tenants use: a client-chosen trace id (a UUID: kept as is without tenants), one generation, one score. */
const TRACE_ID = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const GENERATION_ID = 'generation-1';

function batch(tenantWord: string): unknown {
  const at = '2026-11-26T12:00:00.000Z';
  return {
    batch: [
      { id: `${tenantWord}-e1`, type: 'trace-create', timestamp: at, body: { id: TRACE_ID, name: `${tenantWord}-request`, userId: `user-of-${tenantWord}` } },
      {
        id: `${tenantWord}-e2`,
        type: 'generation-create',
        timestamp: at,
        body: {
          id: GENERATION_ID,
          traceId: TRACE_ID,
          name: 'chat',
          model: 'gpt-4o',
          startTime: at,
          endTime: '2026-11-26T12:00:01.250Z',
          input: [{ role: 'user', content: `question of ${tenantWord}` }],
          output: { role: 'assistant', content: 'answer' },
        },
      },
      { id: `${tenantWord}-e3`, type: 'score-create', timestamp: at, body: { id: 'score-1', traceId: TRACE_ID, observationId: GENERATION_ID, name: 'helpfulness', value: 1 } },
    ],
    metadata: { sdk_name: 'python', sdk_version: '2.60.10', sdk_integration: 'litellm', public_key: 'pk-lf-whatever' },
  };
}

let service: Service | undefined;
let collector: FakeCollector | undefined;
let onlyA: FakeCollector | undefined;
let langfuse: FakeLangfuse | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await service?.shutdown();
  await Promise.all([collector?.close(), onlyA?.close(), langfuse?.close()]);
  service = collector = onlyA = langfuse = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-tenants-it-'));
  dirs.push(dir);
  return dir;
}

async function start(options: { rateA?: number; store?: 'memory' | 'sqlite'; logger?: Logger } = {}): Promise<Service> {
  collector = await startFakeCollector();
  onlyA = await startFakeCollector();
  langfuse = await startFakeLangfuse(TEAM_A, [TEAM_B]);
  const dir = tempDir();
  const file = path.join(dir, 'bridge.yaml');
  writeFileSync(
    file,
    `
tenants:
  - name: team-a
    public_key: ${TEAM_A.publicKey}
    secret_key: \${env:TEAM_A_SECRET}
${options.rateA !== undefined ? `    max_events_per_second: ${options.rateA}\n` : ''}  - name: team-b
    public_key: ${TEAM_B.publicKey}
    secret_key: \${env:TEAM_B_SECRET}
destinations:
  - { name: tempo, type: otlp, traces_endpoint: '${collector.url}', headers: { X-Scope-OrgID: '\${tenant}' } }
  - { name: langfuse, type: langfuse, endpoint: '${langfuse.baseUrl}', credentials: tenant }
  - { name: only-a, type: otlp, traces_endpoint: '${onlyA.url}', tenants: [team-a] }
`,
  );
  const config = loadServiceConfig({
    BRIDGE_CONFIG: file,
    TEAM_A_SECRET: TEAM_A.secretKey,
    TEAM_B_SECRET: TEAM_B.secretKey,
    BRIDGE_STORE: options.store ?? 'memory',
    BRIDGE_DATA_DIR: path.join(dir, 'data'),
    BRIDGE_STORE_RESERVE_BYTES: '0',
    BRIDGE_TRACE_IDLE_MS: '100',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2000',
    BRIDGE_METRICS: 'false',
  });
  service = createService(config, { logger: options.logger ?? createSilentLogger(), tickMillis: 10, initialBackoffMillis: 5, maxBackoffMillis: 20, exportLingerMillis: 0 });
  await service.start();
  return service;
}

const ingest = (app: Service['app'], auth: string, body: unknown) =>
  request(app).post('/api/public/ingestion').set('Authorization', auth).set('Content-Type', 'application/json').send(JSON.stringify(body));

async function until(what: string, done: () => boolean, timeoutMillis = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tenantOfSpan = (span: CollectedSpan) => span.resource['langfuse.tenant'];

describe('two tenants through one bridge', () => {
  it('accepts each tenant\'s own pair and refuses a third, unknown key with 401 on every route', async () => {
    const { app } = await start();
    expect((await ingest(app, basic(TEAM_A), { batch: [] })).status).toBe(207);
    expect((await ingest(app, basic(TEAM_B), { batch: [] })).status).toBe(207);
    const unknown = basic({ publicKey: 'pk-lf-team-c', secretKey: 'sk-lf-team-c' });
    const crossed = basic({ publicKey: TEAM_A.publicKey, secretKey: TEAM_B.secretKey });
    for (const auth of [unknown, crossed]) {
      const res = await ingest(app, auth, batch('c'));
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'UnauthorizedError', message: "Invalid credentials. Confirm that you've configured the correct host." });
      expect((await request(app).post('/api/public/scores').set('Authorization', auth).send({ name: 'x', value: 1, traceId: 't' })).status).toBe(401);
      expect((await request(app).post('/api/public/otel/v1/traces').set('Authorization', auth).set('Content-Type', 'application/json').send('{}')).status).toBe(401);
      expect((await request(app).get('/api/public/projects').set('Authorization', auth)).status).toBe(401);
    }
  });

  it('the same Langfuse ids from both tenants are two traces, each tenant on its own requests and in its own Langfuse project', async () => {
    const { app } = await start();
    expect((await ingest(app, basic(TEAM_A), batch('a'))).status).toBe(207);
    expect((await ingest(app, basic(TEAM_B), batch('b'))).status).toBe(207);
    // Two spans per tenant (root and generation); the score goes to Langfuse's scores API and as an evaluation span elsewhere.
    await until('the OTLP sink', () => collector!.spans().length >= 6);
    await until('the fake Langfuse', () => langfuse!.spans().length >= 4 && langfuse!.scoreRequests.length >= 2);
    await until('the one-tenant destination', () => onlyA!.spans().length >= 3);

    // OTLP sink: every request holds one tenant, named by its header and by every span's resource.
    for (const req of collector!.requests) {
      const tenants = new Set(req.spans.map(tenantOfSpan));
      expect([...tenants]).toEqual([req.headers['x-scope-orgid']]);
    }
    const spans = collector!.spans();
    const traceIdOf = (tenant: string) => new Set(spans.filter((s) => tenantOfSpan(s) === tenant).map((s) => s.traceId));
    const [traceA] = [...traceIdOf('team-a')];
    const [traceB] = [...traceIdOf('team-b')];
    expect(traceIdOf('team-a').size).toBe(1);
    expect(traceIdOf('team-b').size).toBe(1);
    expect(traceA).not.toBe(traceB);
    // Derived with the tenant: not the UUID's own hex, and what ids.ts documents.
    expect(traceA).toBe(toTraceId(TRACE_ID, 'team-a'));
    expect(traceB).toBe(toTraceId(TRACE_ID, 'team-b'));
    expect(traceA).not.toBe(TRACE_ID.replaceAll('-', ''));
    const spanIds = new Set(spans.map((s) => s.spanId));
    expect(spanIds.size).toBe(spans.length);
    // Nothing merged across tenants: each root is named after its own tenant's trace, each generation has its own input.
    for (const tenant of ['a', 'b']) {
      const own = spans.filter((s) => tenantOfSpan(s) === `team-${tenant}`);
      expect(own.map((s) => s.name).sort()).toEqual(['chat gpt-4o', 'evaluation helpfulness', `${tenant}-request`].sort());
      expect(JSON.stringify(own.find((s) => s.name === 'chat gpt-4o')!.attributes['gen_ai.input.messages'])).toContain(`question of ${tenant}`);
      expect(own.find((s) => s.name === `${tenant}-request`)!.attributes['user.id']).toBe(`user-of-${tenant}`);
    }

    // Fake Langfuse: each tenant's spans and scores under its own pair, never mixed.
    for (const [key, tenant] of [[TEAM_A, 'team-a'], [TEAM_B, 'team-b']] as const) {
      const traceRequests = langfuse!.traceRequests.filter((r) => r.project === key.publicKey);
      expect(traceRequests.length).toBeGreaterThan(0);
      for (const r of traceRequests) {
        expect(r.status).toBe(200);
        expect(r.headers.authorization).toBe(basic(key));
        expect(new Set(r.spans.map(tenantOfSpan))).toEqual(new Set([tenant]));
        expect(new Set(r.spans.map((s) => s.traceId))).toEqual(new Set([toTraceId(TRACE_ID, tenant)]));
      }
      const scores = langfuse!.scoreRequests.filter((r) => r.project === key.publicKey);
      expect(scores.map((r) => r.body)).toEqual([
        expect.objectContaining({ id: 'score-1', traceId: toTraceId(TRACE_ID, tenant), observationId: toSpanId({ type: 'observation', id: GENERATION_ID }, tenant) }),
      ]);
      expect(scores[0]!.headers.authorization).toBe(basic(key));
    }
    expect(langfuse!.traceRequests.every((r) => r.status === 200)).toBe(true);

    // The destination limited to team-a saw team-a only.
    expect(new Set(onlyA!.spans().map(tenantOfSpan))).toEqual(new Set(['team-a']));

    // What each backend received, for the record (issue 18 asks for it in the closing note).
    const seen = {
      otlp: collector!.requests.map((r) => ({ 'x-scope-orgid': r.headers['x-scope-orgid'], spans: r.spans.map((s) => `${s.resource['langfuse.tenant']} ${s.traceId} ${s.name}`) })),
      langfuse: [...langfuse!.traceRequests, ...langfuse!.scoreRequests].map((r) => ({
        path: r.path,
        project: r.project,
        // The Basic pair's public half; the secret is not printed.
        authorization: `Basic base64(${Buffer.from(String(r.headers.authorization).slice(6), 'base64').toString('utf8').split(':')[0]}:…)`,
        ...('spans' in r ? { spans: r.spans.map((s) => `${s.resource['langfuse.tenant']} ${s.traceId} ${s.name}`) } : { score: `${String(r.body['traceId'])} ${String(r.body['observationId'])}` }),
      })),
    };
    console.log(`[tenants] received: ${JSON.stringify(seen, null, 1)}`);

    const metrics = await (await request(app).get('/metrics')).text;
    expect(metrics).toContain('bridge_tenant_events_accepted_total{tenant="team-a"} 3');
    expect(metrics).toContain('bridge_tenant_events_accepted_total{tenant="team-b"} 3');
    expect(metrics).toMatch(/bridge_tenant_exported_total\{destination="tempo",tenant="team-b"\} 3/);
    expect(metrics).toMatch(/bridge_tenant_exported_total\{destination="langfuse",tenant="team-a"\} 3/);
    expect(metrics).not.toMatch(/bridge_tenant_exported_total\{destination="only-a",tenant="team-b"\}/);
  });

  it('OTLP spans passed through (no langfuse.* attributes) with the same ids from both tenants stay apart, the tenant attribute over the sender\'s', async () => {
    const { app } = await start();
    const otlpBody = (claims: string) =>
      JSON.stringify({
        resourceSpans: [
          {
            // A sender claiming another tenant in its resource is overruled by its keys.
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'app' } }, { key: 'langfuse.tenant', value: { stringValue: claims } }] },
            scopeSpans: [
              {
                scope: { name: 'my-instrumentation' },
                spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'GET /', kind: 2, startTimeUnixNano: '1764158400000000000', endTimeUnixNano: '1764158400500000000' }],
              },
            ],
          },
        ],
      });
    for (const [key, claims] of [[TEAM_A, 'team-b'], [TEAM_B, 'team-a']] as const) {
      const res = await postOtlp(app, 'application/json', otlpBody(claims), { Authorization: basic(key) });
      expect(res.status).toBe(200);
    }
    await until('both passed-through spans', () => collector!.spans().filter((s) => s.name === 'GET /').length >= 2);
    const spans = collector!.spans().filter((s) => s.name === 'GET /');
    expect(new Set(spans.map(tenantOfSpan))).toEqual(new Set(['team-a', 'team-b']));
    for (const span of spans) {
      expect(span.traceId).toBe(toTraceId('0af7651916cd43dd8448eb211c80319c', String(tenantOfSpan(span))));
      expect(span.spanId).toBe(toSpanId({ type: 'observation', id: 'b7ad6b7169203331' }, String(tenantOfSpan(span))));
    }
    const req = collector!.requests.find((r) => r.spans.some((s) => s.name === 'GET /'))!;
    expect(req.headers['x-scope-orgid']).toBe(tenantOfSpan(req.spans[0]!));
  });

  it('refuses a tenant past its max_events_per_second with 429 and Retry-After, and keeps serving the other', async () => {
    const { app } = await start({ rateA: 1 });
    // The first batch passes whole and leaves a debt of 2 events (3 events, a bucket of 1).
    expect((await ingest(app, basic(TEAM_A), batch('a'))).status).toBe(207);
    const refused = await ingest(app, basic(TEAM_A), batch('a'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(2);
    expect(refused.body).toEqual({ error: 'TooManyRequestsError', message: "tenant 'team-a' is over its max_events_per_second; retry after Retry-After" });
    const otlp = await request(app).post('/api/public/otel/v1/traces').set('Authorization', basic(TEAM_A)).set('Content-Type', 'application/json').send('{}');
    expect(otlp.status).toBe(429);
    expect(otlp.headers['retry-after']).toBeDefined();
    expect((await ingest(app, basic(TEAM_B), batch('b'))).status).toBe(207);
    const metrics = await (await request(app).get('/metrics')).text;
    expect(metrics).toContain('bridge_tenant_requests_refused_total{tenant="team-a",reason="rate_limit"} 2');
    expect(metrics).not.toContain('bridge_tenant_requests_refused_total{tenant="team-b"');
  });

  it('never writes a secret to the store or the log', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) }));
    const { app } = await start({ store: 'sqlite', logger });
    expect((await ingest(app, basic(TEAM_A), batch('a'))).status).toBe(207);
    expect((await ingest(app, basic(TEAM_B), batch('b'))).status).toBe(207);
    expect((await ingest(app, basic({ publicKey: TEAM_A.publicKey, secretKey: 'sk-wrong' }), batch('a'))).status).toBe(401);
    await until('the exports', () => langfuse!.scoreRequests.length >= 2 && collector!.spans().length >= 6);
    const dataDir = path.join(dirs[0]!, 'data');
    const stored = readdirSync(dataDir).map((f) => readFileSync(path.join(dataDir, f)).toString('latin1'));
    expect(stored.join('').includes('team-a')).toBe(true); // the tenant's name is stored with its entries
    const secretsB64 = [TEAM_A, TEAM_B].map((k) => basic(k).slice('Basic '.length));
    for (const text of [...stored, lines.join('')]) {
      for (const secret of [TEAM_A.secretKey, TEAM_B.secretKey, ...secretsB64]) expect(text.includes(secret)).toBe(false);
    }
  });
});
