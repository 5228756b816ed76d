// The bridge's own aggregation of the GenAI metrics (src/export/metric-aggregation.ts) against the
// SDK's instruments it replaced: the same random drafts, recorded in the same batches at the same
// clock readings, must give every reader the same ResourceMetrics at every collect, for each
// temporality preference, both metric name variants and several readers per provider.
import { ExportResultCode } from '@opentelemetry/core';
import { AggregationTemporalityPreference, OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { ConsoleMetricExporter, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { MetricsExporterName } from '../../../src/config/metrics-config.js';
import { createGenAiMetricsRecorder, type GenAiMetricsRecorder } from '../../../src/export/genai-metrics.js';
import type { SpanDraft } from '../../../src/mapping/span-draft.js';
import { makeDraft } from '../../helpers/make-draft.js';

const PREFERENCES = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
} as const;

/** What an exporter was handed, copied when handed (points refer to live accumulations). */
type Exported = { resource: unknown; scopeMetrics: ResourceMetrics['scopeMetrics'] };

/**
 * A recorder whose exporters keep what they are handed, per exporter in the order they were
 * built; `otlp` ones select the temporality the OTLP exporter selects for `temporality`, `console`
 * ones the console exporter's.
 */
function recorderWithExports(aggregation: 'bridge' | 'sdk', temporality: keyof typeof PREFERENCES, names: 'released' | 'development', exporters: MetricsExporterName[]) {
  const exports: Exported[][] = [];
  const newExporter = (name: MetricsExporterName): PushMetricExporter => {
    const selector =
      name === 'console'
        ? new ConsoleMetricExporter()
        : new OTLPMetricExporter({ url: 'http://127.0.0.1:9/v1/metrics', temporalityPreference: PREFERENCES[temporality] });
    const kept: Exported[] = [];
    exports.push(kept);
    return {
      export(metrics, done) {
        kept.push(structuredClone({ resource: metrics.resource.attributes, scopeMetrics: metrics.scopeMetrics }));
        done({ code: ExportResultCode.SUCCESS });
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
      selectAggregationTemporality: (type) => selector.selectAggregationTemporality!(type),
    };
  };
  const recorder = createGenAiMetricsRecorder({
    exporters,
    url: 'http://127.0.0.1:9/v1/metrics',
    protocol: 'http/protobuf',
    timeoutMillis: 1000,
    exportIntervalMillis: 3_600_000,
    temporality,
    resourceAttributes: { team: 'ai' },
    bridgeVersion: 'test',
    names,
    aggregation,
    newExporter,
  });
  return { recorder, exports };
}

const draftArb: fc.Arbitrary<SpanDraft> = fc
  .record({
    client: fc.integer({ min: 0, max: 9 }).map((n) => n > 0),
    service: fc.constantFrom('litellm', 'app', 'worker'),
    operation: fc.constantFrom('chat', 'embeddings', 'text_completion', 'generate_content', 'execute_tool'),
    provider: fc.option(fc.constantFrom('openai', 'anthropic'), { nil: undefined }),
    model: fc.constantFrom('gpt-4o', 'claude', 'm3'),
    port: fc.option(fc.constantFrom<number | string>(8080, '8080', 443), { nil: undefined }),
    durationNanos: fc.oneof(fc.bigInt({ min: -5n, max: 100_000_000_000n }), fc.bigInt({ min: 0n, max: 1_000_000n }), fc.constantFrom(10_000_000n, 1_280_000_000n)),
    error: fc.option(fc.option(fc.constantFrom('RateLimitError', 'Timeout'), { nil: undefined }), { nil: null }),
    input: fc.option(fc.oneof(fc.integer({ min: -3, max: 70_000_000 }), fc.double({ min: 0, max: 5000, noNaN: true }), fc.constantFrom(1, 4, 1024)), { nil: undefined }),
    output: fc.option(fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(16, 256)), { nil: undefined }),
    cacheRead: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
    cacheCreation: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
    cost: fc.option(fc.double({ min: -1, max: 3, noNaN: true }), { nil: undefined }),
    estimated: fc.boolean(),
  })
  .map((d) =>
    makeDraft({
      kind: d.client ? 'CLIENT' : 'INTERNAL',
      resource: { 'service.name': d.service },
      startTimeUnixNano: 1_000_000_000n,
      endTimeUnixNano: 1_000_000_000n + d.durationNanos,
      status: d.error === null ? { code: 'UNSET' } : { code: 'ERROR', message: 'boom' },
      attributes: {
        'gen_ai.operation.name': d.operation,
        ...(d.provider ? { 'gen_ai.provider.name': d.provider } : {}),
        'gen_ai.request.model': d.model,
        ...(d.port !== undefined ? { 'server.port': d.port } : {}),
        ...(d.error ? { 'error.type': d.error } : {}),
        ...(d.input !== undefined ? { 'gen_ai.usage.input_tokens': d.input } : {}),
        ...(d.output !== undefined ? { 'gen_ai.usage.output_tokens': d.output } : {}),
        ...(d.cacheRead !== undefined ? { 'gen_ai.usage.cache_read.input_tokens': d.cacheRead } : {}),
        ...(d.cacheCreation !== undefined ? { 'gen_ai.usage.cache_creation.input_tokens': d.cacheCreation } : {}),
        ...(d.cost !== undefined ? { 'gen_ai.usage.cost': d.cost } : {}),
        ...(d.estimated ? { 'langfuse.observation.cost_estimated': true } : {}),
      },
    }),
  );

interface Cycle {
  batches: Array<{ advanceMillis: number; drafts: SpanDraft[] }>;
  advanceMillis: number;
}

/** One export interval: batches recorded at clock steps, then a collect (forceFlush), or the final shutdown. */
const cycleArb: fc.Arbitrary<Cycle> = fc.record({
  batches: fc.array(fc.record({ advanceMillis: fc.integer({ min: 0, max: 5000 }), drafts: fc.array(draftArb, { maxLength: 12 }) }), { maxLength: 4 }),
  advanceMillis: fc.integer({ min: 0, max: 5000 }),
});

describe('GenAI metrics aggregated by the bridge', () => {
  let clock = 1_700_000_000_000;
  afterEach(() => vi.restoreAllMocks());

  /** Feeds both paths the same cycles; returns what each path's exporters received. */
  async function run(temporality: keyof typeof PREFERENCES, names: 'released' | 'development', exporters: MetricsExporterName[], cycles: Cycle[]) {
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    const paths = [recorderWithExports('sdk', temporality, names, exporters), recorderWithExports('bridge', temporality, names, exporters)];
    const recorders: GenAiMetricsRecorder[] = paths.map((p) => p.recorder);
    try {
      for (const [i, cycle] of cycles.entries()) {
        for (const batch of cycle.batches) {
          clock += batch.advanceMillis;
          for (const r of recorders) r.record(batch.drafts);
        }
        clock += cycle.advanceMillis;
        if (i < cycles.length - 1) for (const r of recorders) await r.forceFlush();
      }
    } finally {
      // The last cycle is collected by the shutdown, as at the bridge's stop.
      for (const r of recorders) await r.shutdown();
      vi.restoreAllMocks();
    }
    return paths.map((p) => p.exports);
  }

  for (const temporality of ['cumulative', 'delta', 'lowmemory'] as const) {
    for (const names of ['released', 'development'] as const) {
      it(`gives every reader what the SDK's instruments gave, collect after collect (${temporality}, ${names} names)`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<MetricsExporterName[]>(['otlp'], ['otlp', 'console'], ['otlp', 'otlp', 'console']),
            fc.array(cycleArb, { minLength: 1, maxLength: 5 }),
            async (exporters, cycles) => {
              const [sdk, bridge] = await run(temporality, names, exporters, cycles);
              expect(bridge).toStrictEqual(sdk);
            },
          ),
          { numRuns: 40 },
        );
      });
    }
  }

  it('exports the data points the SDK does with more attribute sets than its cardinality limit (overflow set)', async () => {
    const drafts = Array.from({ length: 2100 }, (_, i) =>
      makeDraft({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': `model-${i % 2050}`, 'gen_ai.usage.input_tokens': i, 'gen_ai.usage.cost': 1 } }),
    );
    const cycles = [{ batches: [{ advanceMillis: 1, drafts: drafts.slice(0, 1000) }, { advanceMillis: 1, drafts: drafts.slice(1000) }], advanceMillis: 10 }, { batches: [{ advanceMillis: 1, drafts: drafts.slice(0, 10) }], advanceMillis: 10 }];
    for (const temporality of ['cumulative', 'delta'] as const) {
      const [sdk, bridge] = await run(temporality, 'released', ['otlp', 'console'], cycles);
      expect(bridge).toStrictEqual(sdk);
      const points = sdk![0]![0]!.scopeMetrics[0]!.metrics[0]!.dataPoints;
      expect(points.length).toBe(2000);
      expect(points.at(-1)!.attributes).toEqual({ 'otel.metric.overflow': true });
    }
  });
});
