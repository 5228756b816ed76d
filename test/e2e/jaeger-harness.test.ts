/**
 * Proves the harness itself, without the bridge: the provisioned Jaeger starts from
 * scripts/e2e/jaeger-test.yaml on loopback ports chosen here, accepts a hand-made OTLP/JSON span
 * and returns it through both query APIs; it does not trace itself.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTraceV1, listServices, postOtlpJson, startJaeger, waitForTrace, type Jaeger } from './helpers/jaeger.js';
import { SpanKind, StatusCode } from './helpers/otlp.js';

describe('Jaeger test harness', () => {
  let jaeger: Jaeger;

  beforeAll(async () => {
    jaeger = await startJaeger('jaeger-harness');
  });
  afterAll(async () => {
    await jaeger?.stop();
  });

  it('listens on 127.0.0.1 only, on the ports it was given', () => {
    for (const u of [jaeger.queryUrl, jaeger.otlpHttpUrl]) expect(new URL(u).hostname).toBe('127.0.0.1');
    expect(jaeger.otlpGrpcEndpoint.startsWith('127.0.0.1:')).toBe(true);
  });

  it('stores an OTLP/JSON span and returns it from /api/v3/traces and /api/traces', async () => {
    const traceId = randomBytes(16).toString('hex');
    const rootId = randomBytes(8).toString('hex');
    const childId = randomBytes(8).toString('hex');
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const res = await postOtlpJson(jaeger.otlpHttpUrl, {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e-harness' } }] },
          scopeSpans: [
            {
              scope: { name: 'hand-made' },
              spans: [
                {
                  traceId,
                  spanId: rootId,
                  name: 'root op',
                  kind: SpanKind.INTERNAL,
                  startTimeUnixNano: String(t0),
                  endTimeUnixNano: String(t0 + 5_000_000n),
                  attributes: [{ key: 'langfuse.trace.id', value: { stringValue: 'hand-made-trace' } }],
                },
                {
                  traceId,
                  spanId: childId,
                  parentSpanId: rootId,
                  name: 'chat gpt-4o',
                  kind: SpanKind.CLIENT,
                  startTimeUnixNano: String(t0 + 1_000_000n),
                  endTimeUnixNano: String(t0 + 4_000_000n),
                  attributes: [
                    { key: 'gen_ai.usage.input_tokens', value: { intValue: '12' } },
                    { key: 'gen_ai.usage.cost', value: { doubleValue: 0.25 } },
                  ],
                  status: { code: StatusCode.ERROR, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(res.status).toBe(200);

    const spans = await waitForTrace(jaeger.queryUrl, traceId, { until: (s) => s.length === 2 });
    const root = spans.find((s) => s.spanId === rootId);
    const child = spans.find((s) => s.spanId === childId);
    expect(root?.parentSpanId).toBe('');
    expect(root?.resource['service.name']).toBe('e2e-harness');
    expect(root?.attributes['langfuse.trace.id']).toBe('hand-made-trace');
    expect(child?.parentSpanId).toBe(rootId);
    expect(child?.kind).toBe(SpanKind.CLIENT);
    expect(child?.attributes['gen_ai.usage.input_tokens']).toBe(12);
    expect(child?.attributes['gen_ai.usage.cost']).toBe(0.25);
    expect(child?.status).toEqual({ code: StatusCode.ERROR, message: 'boom' });
    expect(child!.endNs - child!.startNs).toBe(3_000_000n);

    const v1 = await getTraceV1(jaeger.queryUrl, traceId);
    expect(v1?.spans.map((s) => s.operationName).sort()).toEqual(['chat gpt-4o', 'root op']);
    const v1child = v1?.spans.find((s) => s.spanID === childId);
    expect(v1child?.references).toEqual([expect.objectContaining({ refType: 'CHILD_OF', spanID: rootId })]);
    expect(v1child?.tags).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'error', value: true })]));
  });

  it('answers 404 for an unknown trace', async () => {
    const res = await fetch(`${jaeger.queryUrl}/api/v3/traces/${randomBytes(16).toString('hex')}`);
    expect(res.status).toBe(404);
  });

  it('does not trace its own query API (enable_tracing: false)', async () => {
    for (let i = 0; i < 3; i++) await listServices(jaeger.queryUrl);
    await new Promise((r) => setTimeout(r, 300));
    expect(await listServices(jaeger.queryUrl)).toEqual(['e2e-harness']);
  });
});
