/**
 * The built bridge as a process: its HTTP surface on loopback (health, ready, projects, media,
 * ingestion with a bad event), OTLP/HTTP JSON export (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) into
 * Jaeger, and a clean exit on SIGTERM.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bridgeLogRecords, postIngestion, startBridge, type Bridge } from './helpers/bridge.js';
import { startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { SpanKind, otelTraceId, rootSpanId } from './helpers/otlp.js';
import { recordTree, resetReport } from './helpers/report.js';

describe('bridge process (node dist/main.js)', () => {
  let jaeger: Jaeger;
  let bridge: Bridge;

  beforeAll(async () => {
    resetReport('bridge-process');
    jaeger = await startJaeger('jaeger-process');
    bridge = await startBridge({ otlpEndpoint: jaeger.otlpHttpUrl, name: 'bridge-process', protocol: 'http/json' });
  });

  afterAll(async () => {
    if (bridge && !bridge.proc.hasExited) await bridge.stop();
    await jaeger?.stop();
  });

  it('logs "listening" with a loopback url and the chosen port', () => {
    expect(bridge.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.port).toBeGreaterThan(0);
    const listening = bridgeLogRecords(bridge).find((r) => r.msg === 'listening');
    expect(listening?.url).toBe(bridge.url);
  });

  it('GET /api/public/health needs no auth; /ready says 200 when accepting', async () => {
    const health = await fetch(`${bridge.url}/api/public/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; version: string };
    expect(body.status).toBe('OK');
    expect(typeof body.version).toBe('string');
    const ready = await fetch(`${bridge.url}/api/public/ready`);
    expect(ready.status).toBe(200);
  });

  it('GET /api/public/projects: 401 JSON without or with wrong keys, 200 with the configured keys', async () => {
    const none = await fetch(`${bridge.url}/api/public/projects`);
    expect(none.status).toBe(401);
    // JSON with a message (the bridge mirrors Langfuse here: `message` only, no `error` key).
    expect(typeof ((await none.json()) as { message: unknown }).message).toBe('string');
    const wrong = await fetch(`${bridge.url}/api/public/projects`, {
      headers: { authorization: 'Basic ' + Buffer.from(`${bridge.publicKey}:nope`).toString('base64') },
    });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${bridge.url}/api/public/projects`, { headers: { authorization: bridge.authHeader } });
    expect(ok.status).toBe(200);
    const projects = (await ok.json()) as { data: Array<{ id: string; name: string }> };
    expect(projects.data).toHaveLength(1);
    expect(typeof projects.data[0]!.id).toBe('string');
    expect(typeof projects.data[0]!.name).toBe('string');
  });

  it('POST /api/public/media answers so that SDKs skip the upload', async () => {
    const res = await fetch(`${bridge.url}/api/public/media`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: bridge.authHeader },
      body: JSON.stringify({
        traceId: randomUUID(),
        contentType: 'image/png',
        contentLength: 10,
        sha256Hash: 'n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
        field: 'input',
      }),
    });
    expect(res.status).toBeLessThan(300);
    const body = (await res.json()) as { uploadUrl: unknown; mediaId: unknown };
    expect(body.uploadUrl).toBeNull();
    expect(typeof body.mediaId).toBe('string');
  });

  it('ingestion: 207 with the bad event reported and the good one exported as OTLP/JSON', async () => {
    const langfuseTraceId = `process-${randomUUID()}`;
    const now = new Date().toISOString();
    const goodId = randomUUID();
    const badId = randomUUID();
    const res = await postIngestion(bridge.url, bridge.authHeader, {
      batch: [
        { id: goodId, type: 'trace-create', timestamp: now, body: { id: langfuseTraceId, name: 'json-export', timestamp: now } },
        { id: badId, type: 'generation-create', timestamp: now, body: { id: 42, traceId: langfuseTraceId, startTime: 'not a date' } },
      ],
    });
    expect(res.status).toBe(207);
    const body = res.body as { successes: Array<{ id: string; status: number }>; errors: Array<{ id: string; status: number }> };
    expect(body.successes).toEqual([{ id: goodId, status: 201 }]);
    expect(body.errors).toEqual([expect.objectContaining({ id: badId, status: 400 })]);

    const traceId = otelTraceId(langfuseTraceId);
    const spans = await waitForTrace(jaeger.queryUrl, traceId);
    recordTree('bridge-process', 'http/json export', traceId, spans);
    expect(spans).toHaveLength(1);
    expect(spans[0]).toMatchObject({ name: 'json-export', kind: SpanKind.INTERNAL, spanId: rootSpanId(langfuseTraceId) });
    expect(spans[0]!.resource['service.name']).toBe('langfuse');
  });

  it('exits 0 on SIGTERM', async () => {
    const exit = await bridge.stop();
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
