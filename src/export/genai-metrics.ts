// GenAI client metrics derived from exported spans, sent over OTLP metrics (http/protobuf,
// http/json or grpc) or printed (console): the semconv histograms gen_ai.client.token.usage and
// gen_ai.client.operation.duration (with the semconv bucket boundaries and attributes; semconv
// v1.41.0) and a cost counter. With `names: 'development'`, the metrics of
// open-telemetry/semantic-conventions-genai main instead (not released):
// gen_ai.client.inference.duration, .inference.operation.input_tokens / .output_tokens histograms
// and the gen_ai.client.inference.usage.* counters. Fed with SpanDrafts after a successful export; owns its MeterProviders, readers and
// exporters, and nothing of the trace path. The first set of exporters and readers is built when
// the recorder is created (at start), so a setting they refuse stops the start instead of being
// logged at error level at the first span.
import { Metadata } from '@grpc/grpc-js';
import type { Attributes, Counter, Histogram } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as OtlpGrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference, OTLPMetricExporter as OtlpJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OtlpProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';

import type { MetricsExporterName, MetricsProtocol, MetricsTemporality } from '../config/metrics-config.js';
import type { TlsMaterial } from '../config/tls-config.js';
import type { DraftAttributes, SpanDraft } from '../mapping/span-draft.js';
import { grpcCredentials } from './grpc-credentials.js';
import { describeTlsFailure, tlsAgentOptions } from './tls-options.js';
import { sameAttributes } from './same-attributes.js';
import { createResourceCache } from './to-readable-span.js';

/** Semconv advice for gen_ai.client.token.usage ({token}). */
export const TOKEN_USAGE_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** Semconv advice for gen_ai.client.operation.duration (s). */
export const OPERATION_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

export interface GenAiMetricsOptions {
  /** One reader each; default `['otlp']`. */
  exporters?: readonly MetricsExporterName[];
  /** The full metrics URL, e.g. `http://127.0.0.1:4318/v1/metrics`, or the gRPC endpoint. */
  url: string;
  protocol: MetricsProtocol;
  headers?: Record<string, string>;
  /** One OTLP attempt. */
  timeoutMillis: number;
  compression?: 'gzip' | 'none';
  exportIntervalMillis: number;
  /** The reader's deadline for one collect-and-export; at most the interval. @defaultValue the interval or 30 s, the lower */
  exportTimeoutMillis?: number;
  temporality?: MetricsTemporality;
  tls?: TlsMaterial;
  /**
   * Told when an OTLP metrics export fails: once per reason, and again after an export succeeded.
   * The SDK's reader reports failures only to its diag logger, which the bridge does not install.
   */
  onExportFailure?: (reason: string) => void;

  /** Parsed OTEL_RESOURCE_ATTRIBUTES; the drafts' own resource attributes win, as for spans. */
  resourceAttributes: Record<string, string>;
  serviceNameOverride?: string;
  bridgeVersion: string;
  /** Released semconv metric names (v1.41.0), or the development ones. @defaultValue 'released' */
  names?: 'released' | 'development';
}

export interface GenAiMetricsRecorder {
  /** Records the metrics of exported drafts; spans that are not GenAI client calls are skipped. */
  record(drafts: readonly SpanDraft[]): void;
  /** Exports what was recorded now (tests, shutdown). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

interface Instruments {
  provider: MeterProvider;
  /** Adds the draft's measurements to `batch`; `sharedKey` names `shared`'s values (valueKey per SHARED_KEYS). */
  record(draft: SpanDraft, shared: Attributes, sharedKey: string, batch: MeasurementBatch): void;
}

/**
 * The measurements of one record() call, grouped per instrument and attribute set before they
 * reach the SDK, whose every record/add call hashes its attributes (sorts the keys and
 * stringifies them): 5.2% of the bridge's busy time under `npm run bench` when called per span.
 * A counter gets one add per set with the set's sum; a histogram gets its values in their
 * original order with one attributes object per set, so its buckets, count, sum, min and max are
 * those of per-span calls. Counter sums of integers are exact; a cost sum may differ from
 * per-span adds in the last bits, as it already does with where the export intervals fall.
 */
class MeasurementBatch {
  private readonly sums = new Map<Counter, Map<string, { attributes: Attributes; sum: number }>>();
  private readonly values = new Map<Histogram, Map<string, { attributes: Attributes; values: number[] }>>();

  /** `attributes` is called only for the first measurement of its set (`key`). */
  add(counter: Counter, key: string, attributes: () => Attributes, value: number): void {
    let sets = this.sums.get(counter);
    if (!sets) this.sums.set(counter, (sets = new Map()));
    const set = sets.get(key);
    if (set) set.sum += value;
    else sets.set(key, { attributes: attributes(), sum: value });
  }

  record(histogram: Histogram, key: string, attributes: () => Attributes, value: number): void {
    let sets = this.values.get(histogram);
    if (!sets) this.values.set(histogram, (sets = new Map()));
    const set = sets.get(key);
    if (set) set.values.push(value);
    else sets.set(key, { attributes: attributes(), values: [value] });
  }

  flush(): void {
    for (const [counter, sets] of this.sums) for (const set of sets.values()) counter.add(set.sum, set.attributes);
    for (const [histogram, sets] of this.values) for (const set of sets.values()) for (const value of set.values) histogram.record(value, set.attributes);
  }
}

/** A key naming an attribute value without collisions (type tag and length prefix), cheaper than the SDK's hash. */
const valueKey = (value: unknown): string => {
  if (value === undefined) return 'u';
  if (typeof value === 'string') return `s${value.length}:${value}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value === 'number' ? 'n' : 'b'}${String(value)};`;
  const text = JSON.stringify(value);
  return `j${text.length}:${text}`;
};

/** Operations whose duration is gen_ai.client.inference.duration in the development names. */
const INFERENCE_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content']);
/** Development usage counters: the span attribute each one sums (cache writes under either name). */
const USAGE_COUNTERS: Array<[metric: string, attributes: string[]]> = [
  ['gen_ai.client.inference.usage.input_tokens', ['gen_ai.usage.input_tokens']],
  ['gen_ai.client.inference.usage.output_tokens', ['gen_ai.usage.output_tokens']],
  ['gen_ai.client.inference.usage.cache_read.input_tokens', ['gen_ai.usage.cache_read.input_tokens']],
  ['gen_ai.client.inference.usage.cache_write.input_tokens', ['gen_ai.usage.cache_write.input_tokens', 'gen_ai.usage.cache_creation.input_tokens']],
  ['gen_ai.client.inference.usage.reasoning.output_tokens', ['gen_ai.usage.reasoning.output_tokens']],
];

const tokenCount = (a: DraftAttributes, keys: string[]): number | undefined => {
  for (const key of keys) {
    const value = a[key];
    if (typeof value === 'number' && value >= 0 && Number.isFinite(value)) return value;
  }
  return undefined;
};

/** Distinct resources (services) get their own provider, so metrics carry the spans' service.name. */
const MAX_PROVIDERS = 32;

/** Attributes the semconv lists for both client metrics, as the span carries them. */
const SHARED_KEYS = ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.request.model', 'gen_ai.response.model', 'server.address', 'server.port'];

const TEMPORALITY = {
  cumulative: AggregationTemporalityPreference.CUMULATIVE,
  delta: AggregationTemporalityPreference.DELTA,
  lowmemory: AggregationTemporalityPreference.LOWMEMORY,
} as const;

/** Throws at creation for settings a reader would refuse (a startup error); never later. */
export function createGenAiMetricsRecorder(options: GenAiMetricsOptions): GenAiMetricsRecorder {
  const resources = createResourceCache(options.resourceAttributes, options.serviceNameOverride);
  const providers = new Map<string, Instruments>();
  const exporterNames = options.exporters ?? ['otlp'];
  const exportTimeoutMillis = options.exportTimeoutMillis ?? Math.min(options.exportIntervalMillis, 30_000);
  if (exportTimeoutMillis > options.exportIntervalMillis) {
    // config/metrics-config.ts lowers it with a warning; a caller that did not is a programming error.
    throw new Error(`metrics export timeout (${exportTimeoutMillis} ms) above the interval (${options.exportIntervalMillis} ms)`);
  }
  const url = new URL(options.url);
  const compression = options.compression === 'gzip' ? CompressionAlgorithm.GZIP : CompressionAlgorithm.NONE;
  const temporalityPreference = TEMPORALITY[options.temporality ?? 'cumulative'];

  const newOtlpExporter = (): PushMetricExporter => {
    if (options.protocol === 'grpc') {
      const metadata = new Metadata();
      for (const [name, value] of Object.entries(options.headers ?? {})) metadata.set(name.toLowerCase(), value);
      return new OtlpGrpcMetricExporter({
        url: options.url,
        metadata,
        credentials: grpcCredentials(url, options.tls),
        compression,
        timeoutMillis: options.timeoutMillis,
        temporalityPreference,
      });
    }
    const config = {
      url: options.url,
      headers: { ...options.headers },
      timeoutMillis: options.timeoutMillis,
      compression,
      temporalityPreference,
      ...(url.protocol === 'https:' && options.tls ? { httpAgentOptions: { keepAlive: true, ...tlsAgentOptions(options.tls) } } : {}),
    };
    return options.protocol === 'http/json' ? new OtlpJsonMetricExporter(config) : new OtlpProtoMetricExporter(config);
  };
  let lastFailure: string | undefined;
  const reported = (exporter: PushMetricExporter): PushMetricExporter => {
    const onFailure = options.onExportFailure;
    if (!onFailure) return exporter;
    return {
      export(metrics, resultCallback) {
        exporter.export(metrics, (result) => {
          if (result.code === ExportResultCode.SUCCESS) lastFailure = undefined;
          else {
            const error = result.error as (Error & { code?: string | number }) | undefined;
            const code = typeof error?.code === 'string' ? error.code : undefined;
            const reason = describeTlsFailure(code, error?.message) ?? (error ? `${error.message}${code ? ` (${code})` : ''}` : 'failed');
            if (reason !== lastFailure) onFailure(reason);
            lastFailure = reason;
          }
          resultCallback(result);
        });
      },
      forceFlush: () => exporter.forceFlush(),
      shutdown: () => exporter.shutdown(),
      // The temporality and aggregation the OTLP exporter was configured with.
      ...(exporter.selectAggregationTemporality ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) } : {}),
      ...(exporter.selectAggregation ? { selectAggregation: exporter.selectAggregation.bind(exporter) } : {}),
    };
  };
  const newReaders = (): { readers: PeriodicExportingMetricReader[]; exporters: PushMetricExporter[] } => {
    const exporters = exporterNames.map((name) => (name === 'console' ? new ConsoleMetricExporter() : reported(newOtlpExporter())));
    const readers = exporters.map((exporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: options.exportIntervalMillis, exportTimeoutMillis }));
    return { readers, exporters };
  };
  // Built now: whatever the SDK refuses in these settings, it refuses at start.
  let firstSet: ReturnType<typeof newReaders> | undefined = newReaders();

  // Consecutive drafts mostly come from one sender: the last resource is compared first.
  let last: { resource: DraftAttributes; instruments: Instruments } | undefined;
  const instrumentsFor = (draftResource: DraftAttributes): Instruments | undefined => {
    if (last && sameAttributes(last.resource, draftResource)) return last.instruments;
    const found = findInstruments(draftResource);
    if (found) last = { resource: draftResource, instruments: found };
    return found;
  };
  const findInstruments = (draftResource: DraftAttributes): Instruments | undefined => {
    const key = JSON.stringify(Object.entries(draftResource).sort(([a], [b]) => (a < b ? -1 : 1)));
    const known = providers.get(key);
    if (known) return known;
    // Past the bound, metrics of a new service are not recorded rather than put under another's name.
    if (providers.size >= MAX_PROVIDERS) return undefined;
    const provider = new MeterProvider({
      resource: resources.resourceFor(draftResource),
      readers: (firstSet ?? newReaders()).readers,
    });
    firstSet = undefined;
    const meter = provider.getMeter('langfuse-otel-bridge', options.bridgeVersion);
    // Not in the semconv (it has no cost metric): named after the span attribute it sums.
    const cost = meter.createCounter('gen_ai.usage.cost', { description: 'Cost of GenAI operations, as sent by the client or estimated.', unit: 'USD' });
    const recordCost = (a: DraftAttributes, shared: Attributes, sharedKey: string, batch: MeasurementBatch) => {
      const value = a['gen_ai.usage.cost'];
      if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) return;
      const estimated = a['langfuse.observation.cost_estimated'] === true;
      batch.add(cost, estimated ? `${sharedKey}e` : sharedKey, () => (estimated ? { ...shared, 'langfuse.observation.cost_estimated': true } : { ...shared }), value);
    };
    const durationOf = (name: string) =>
      meter.createHistogram(name, { description: 'GenAI operation duration.', unit: 's', advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS } });
    const tokensHistogram = (name: string, description: string) =>
      meter.createHistogram(name, { description, unit: '{token}', advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS } });
    const operationDuration = durationOf('gen_ai.client.operation.duration');
    const recordDuration = (draft: SpanDraft, shared: Attributes, sharedKey: string, batch: MeasurementBatch, histogram: Histogram) => {
      const seconds = Number(draft.endTimeUnixNano - draft.startTimeUnixNano) / 1e9;
      if (!(seconds >= 0)) return;
      if (draft.status.code !== 'ERROR') return batch.record(histogram, sharedKey, () => ({ ...shared }), seconds);
      const errorType = typeof draft.attributes['error.type'] === 'string' ? draft.attributes['error.type'] : '_OTHER';
      batch.record(histogram, `${sharedKey}E${valueKey(errorType)}`, () => ({ ...shared, 'error.type': errorType }), seconds);
    };
    let record: Instruments['record'];
    if (options.names === 'development') {
      const inferenceDuration = durationOf('gen_ai.client.inference.duration');
      const embeddingsDuration = durationOf('gen_ai.client.embeddings.duration');
      const inputTokens = tokensHistogram('gen_ai.client.inference.operation.input_tokens', 'Input tokens of a GenAI inference operation.');
      const outputTokens = tokensHistogram('gen_ai.client.inference.operation.output_tokens', 'Output tokens of a GenAI inference operation.');
      const counters = USAGE_COUNTERS.map(([name, keys]) => [meter.createCounter(name, { description: 'Tokens used by GenAI inference operations.', unit: '{token}' }), keys] as const);
      record = (draft, shared, sharedKey, batch) => {
        const a = draft.attributes;
        const operation = String(a['gen_ai.operation.name']);
        const inference = INFERENCE_OPERATIONS.has(operation);
        recordDuration(draft, shared, sharedKey, batch, inference ? inferenceDuration : operation === 'embeddings' ? embeddingsDuration : operationDuration);
        if (inference) {
          const input = tokenCount(a, ['gen_ai.usage.input_tokens']);
          const output = tokenCount(a, ['gen_ai.usage.output_tokens']);
          if (input !== undefined) batch.record(inputTokens, sharedKey, () => ({ ...shared }), input);
          if (output !== undefined) batch.record(outputTokens, sharedKey, () => ({ ...shared }), output);
          // The modality is not known from a Langfuse record: `unknown`, as the conventions say.
          for (const [counter, keys] of counters) {
            const value = tokenCount(a, keys);
            if (value !== undefined) batch.add(counter, sharedKey, () => ({ ...shared, 'gen_ai.token.modality': 'unknown' }), value);
          }
        }
        recordCost(a, shared, sharedKey, batch);
      };
    } else {
      const tokens = tokensHistogram('gen_ai.client.token.usage', 'Number of input and output tokens used.');
      record = (draft, shared, sharedKey, batch) => {
        const a = draft.attributes;
        recordDuration(draft, shared, sharedKey, batch, operationDuration);
        const input = tokenCount(a, ['gen_ai.usage.input_tokens']);
        const output = tokenCount(a, ['gen_ai.usage.output_tokens']);
        if (input !== undefined) batch.record(tokens, `${sharedKey}i`, () => ({ ...shared, 'gen_ai.token.type': 'input' }), input);
        if (output !== undefined) batch.record(tokens, `${sharedKey}o`, () => ({ ...shared, 'gen_ai.token.type': 'output' }), output);
        recordCost(a, shared, sharedKey, batch);
      };
    }
    const instruments: Instruments = { provider, record };
    providers.set(key, instruments);
    return instruments;
  };

  return {
    record(drafts) {
      const batch = new MeasurementBatch();
      for (const draft of drafts) {
        const a = draft.attributes;
        if (draft.kind !== 'CLIENT' || typeof a['gen_ai.operation.name'] !== 'string') continue;
        const instruments = instrumentsFor(draft.resource);
        if (!instruments) continue;
        const shared: Attributes = {};
        let sharedKey = '';
        for (const key of SHARED_KEYS) {
          const value = a[key];
          sharedKey += valueKey(value);
          if (value !== undefined) shared[key] = value;
        }
        instruments.record(draft, shared, sharedKey, batch);
      }
      batch.flush();
    },
    async forceFlush() {
      await Promise.all([...providers.values()].map((i) => i.provider.forceFlush()));
    },
    async shutdown() {
      // Exporters built at start that no span used yet (never bound to a provider) still close.
      const unused = firstSet?.exporters ?? [];
      firstSet = undefined;
      await Promise.all([...[...providers.values()].map((i) => i.provider.shutdown()), ...unused.map((e) => e.shutdown())]);
      providers.clear();
      last = undefined;
    },
  };
}
