// GenAI client metrics derived from exported spans, sent over OTLP metrics (http/protobuf,
// http/json or grpc) or printed (console): the semconv histograms gen_ai.client.token.usage and
// gen_ai.client.operation.duration (with the semconv bucket boundaries and attributes; semconv
// v1.41.0) and a cost counter. With `names: 'development'`, the metrics of
// open-telemetry/semantic-conventions-genai main instead (not released):
// gen_ai.client.inference.duration, .inference.operation.input_tokens / .output_tokens histograms
// and the gen_ai.client.inference.usage.* counters. Fed with SpanDrafts after a successful export; owns its MeterProviders, readers and
// exporters, and nothing of the trace path. The measurements are aggregated in the bridge
// (metric-aggregation.ts) and collected by the SDK's readers as a metric producer. The first set of exporters and readers is built when
// the recorder is created (at start), so a setting they refuse stops the start instead of being
// logged at error level at the first span.
import { Metadata } from '@grpc/grpc-js';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
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
import { AggregatedMeter, ReaderProducer } from './metric-aggregation.js';
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
  /**
   * Tests: `'sdk'` records through the SDK's own instruments, the reference the bridge's
   * aggregation is compared with. @defaultValue 'bridge'
   */
  aggregation?: 'bridge' | 'sdk';
  /** Tests: the exporter of each reader instead of the OTLP or console one (its temporality is the reader's). */
  newExporter?: (name: MetricsExporterName) => PushMetricExporter;
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
  /** Adds the draft's measurements to `batch`, under `set` (its shared attributes) or its extensions. */
  record(draft: SpanDraft, set: AttributeSet, batch: MeasurementBatch): void;
}

/** One instrument, as the batch hands it its grouped measurements. */
interface Instrument {
  add(attributes: Attributes, sum: number, nowMillis: number): void;
  recordAll(attributes: Attributes, values: readonly number[], nowMillis: number): void;
}
type Counter = Instrument;
type Histogram = Instrument;

/**
 * The measurements of one record() call, grouped per instrument and attribute set before they
 * are aggregated: per set, one lookup of its hash and accumulation instead of one per value
 * (the SDK's record/add calls hash their attributes each time: 5.2% of the bridge's busy time
 * under `npm run bench` when called per span). A counter gets one add per set with the set's
 * sum; a histogram gets its values in their original order, so its buckets, count, sum, min and
 * max are those of per-span calls. Counter sums of integers are exact; a cost sum may differ from
 * per-span adds in the last bits, as it already does with where the export intervals fall.
 * Sets are told apart by object: {@link AttributeSets} hands out one object per distinct set.
 */
class MeasurementBatch {
  private readonly sums = new Map<Counter, Map<Attributes, number>>();
  private readonly values = new Map<Histogram, Map<Attributes, number[]>>();

  add(counter: Counter, attributes: Attributes, value: number): void {
    let sets = this.sums.get(counter);
    if (!sets) this.sums.set(counter, (sets = new Map()));
    const sum = sets.get(attributes);
    sets.set(attributes, sum === undefined ? value : sum + value);
  }

  record(histogram: Histogram, attributes: Attributes, value: number): void {
    let sets = this.values.get(histogram);
    if (!sets) this.values.set(histogram, (sets = new Map()));
    const values = sets.get(attributes);
    if (values) values.push(value);
    else sets.set(attributes, [value]);
  }

  flush(): void {
    // One clock read per batch: the start time of the sets it opens (the SDK reads it per call).
    const now = Date.now();
    for (const [counter, sets] of this.sums) for (const [attributes, sum] of sets) counter.add(attributes, sum, now);
    for (const [histogram, sets] of this.values) for (const [attributes, values] of sets) histogram.recordAll(attributes, values, now);
  }
}

/** The attributes of one span's measurements: the shared ones, and the shared ones plus one more. */
interface AttributeSet {
  shared: Attributes;
  /** By the name of what is added: `input`/`output` token type, `estimated` cost, `modality`, or `error:<type>`. */
  extended: Map<string, Attributes>;
}

/** Distinct attribute sets kept, across batches; past it the table starts over (memory stays flat). */
const MAX_ATTRIBUTE_SETS = 1024;

/**
 * One frozen attributes object per distinct set of SHARED_KEYS values (and per extension of it),
 * found by the values themselves, key after key, instead of building a key text and two attribute
 * objects per span. Values that are not primitives (arrays a passed-through span may carry) are
 * told apart by their JSON text, as the SDK's hash does.
 */
class AttributeSets {
  private root = new Map<unknown, unknown>();
  private size = 0;
  private complex = new Map<string, object>();

  of(a: DraftAttributes): AttributeSet {
    let level = this.root;
    const last = SHARED_KEYS.length - 1;
    for (let i = 0; i < last; i++) {
      const value = this.keyOf(a[SHARED_KEYS[i]!]);
      let next = level.get(value) as Map<unknown, unknown> | undefined;
      if (!next) level.set(value, (next = new Map()));
      level = next;
    }
    const value = this.keyOf(a[SHARED_KEYS[last]!]);
    const known = level.get(value) as AttributeSet | undefined;
    if (known) return known;
    if (this.size >= MAX_ATTRIBUTE_SETS) {
      // Starting over only costs building the sets again; the objects handed out stay valid.
      this.root = new Map();
      this.complex = new Map();
      this.size = 0;
      return this.of(a);
    }
    const shared: Attributes = {};
    for (const key of SHARED_KEYS) {
      const v = a[key];
      if (v !== undefined) shared[key] = v;
    }
    const set: AttributeSet = { shared: Object.freeze(shared), extended: new Map() };
    level.set(value, set);
    this.size++;
    return set;
  }

  private keyOf(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    const text = JSON.stringify(value);
    let token = this.complex.get(text);
    if (!token) this.complex.set(text, (token = {}));
    return token;
  }
}

/** Extensions kept per set: a few token types and flags, and error types (which clients name). */
const MAX_EXTENSIONS_PER_SET = 64;

/** `set`'s shared attributes plus `key`: `value`, one object per `name` (which names key and value). */
function extendedSet(set: AttributeSet, name: string, key: string, value: AttributeValue): Attributes {
  const known = set.extended.get(name);
  if (known) return known;
  const attributes = Object.freeze({ ...set.shared, [key]: value });
  // Past the bound an extension is built each time: the SDK still finds its set by its values.
  if (set.extended.size < MAX_EXTENSIONS_PER_SET) set.extended.set(name, attributes);
  return attributes;
}

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

const INPUT_TOKENS = ['gen_ai.usage.input_tokens'];
const OUTPUT_TOKENS = ['gen_ai.usage.output_tokens'];

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

interface Meter {
  counter(name: string, options: { description: string; unit: string }): Instrument;
  histogram(name: string, options: { description: string; unit: string; advice: { explicitBucketBoundaries: number[] } }): Instrument;
}

/** The bridge's aggregation, collected by the provider's readers (their producers). */
function bridgeMeter(producers: readonly ReaderProducer[], version: string): Meter {
  // The scope MeterProvider.getMeter would make (schemaUrl included, unset).
  return new AggregatedMeter({ name: 'langfuse-otel-bridge', version, schemaUrl: undefined }, producers);
}

/** The SDK's own instruments: what the bridge's aggregation must export the same as (tests). */
function sdkMeter(provider: MeterProvider, version: string): Meter {
  const meter = provider.getMeter('langfuse-otel-bridge', version);
  return {
    counter(name, options) {
      const counter = meter.createCounter(name, options);
      return { add: (attributes, sum) => counter.add(sum, attributes), recordAll: () => undefined };
    },
    histogram(name, options) {
      const histogram = meter.createHistogram(name, options);
      return { add: () => undefined, recordAll: (attributes, values) => values.forEach((value) => histogram.record(value, attributes)) };
    },
  };
}

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
  const newReaders = (): { readers: PeriodicExportingMetricReader[]; exporters: PushMetricExporter[]; producers: ReaderProducer[] } => {
    const exporters = exporterNames.map((name) => options.newExporter?.(name) ?? (name === 'console' ? new ConsoleMetricExporter() : reported(newOtlpExporter())));
    const producers = exporters.map(() => new ReaderProducer());
    const readers = exporters.map((exporter, i) => {
      const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: options.exportIntervalMillis, exportTimeoutMillis, metricProducers: [producers[i]!] });
      producers[i]!.reader = reader;
      return reader;
    });
    return { readers, exporters, producers };
  };
  // Built now: whatever the SDK refuses in these settings, it refuses at start.
  let firstSet: ReturnType<typeof newReaders> | undefined = newReaders();

  // Consecutive drafts mostly come from one sender: the last resource is compared first.
  let last: { resource: DraftAttributes; instruments: Instruments } | undefined;
  const instrumentsFor = (draftResource: DraftAttributes): Instruments | undefined => {
    if (last && (last.resource === draftResource || sameAttributes(last.resource, draftResource))) return last.instruments;
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
    const set = firstSet ?? newReaders();
    firstSet = undefined;
    const provider = new MeterProvider({ resource: resources.resourceFor(draftResource), readers: set.readers });
    const meter = options.aggregation === 'sdk' ? sdkMeter(provider, options.bridgeVersion) : bridgeMeter(set.producers, options.bridgeVersion);
    // Not in the semconv (it has no cost metric): named after the span attribute it sums.
    const cost = meter.counter('gen_ai.usage.cost', { description: 'Cost of GenAI operations, as sent by the client or estimated.', unit: 'USD' });
    const recordCost = (a: DraftAttributes, set: AttributeSet, batch: MeasurementBatch) => {
      const value = a['gen_ai.usage.cost'];
      if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) return;
      const estimated = a['langfuse.observation.cost_estimated'] === true;
      batch.add(cost, estimated ? extendedSet(set, 'estimated', 'langfuse.observation.cost_estimated', true) : set.shared, value);
    };
    const durationOf = (name: string) =>
      meter.histogram(name, { description: 'GenAI operation duration.', unit: 's', advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS } });
    const tokensHistogram = (name: string, description: string) =>
      meter.histogram(name, { description, unit: '{token}', advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS } });
    const operationDuration = durationOf('gen_ai.client.operation.duration');
    const recordDuration = (draft: SpanDraft, set: AttributeSet, batch: MeasurementBatch, histogram: Histogram) => {
      const seconds = Number(draft.endTimeUnixNano - draft.startTimeUnixNano) / 1e9;
      if (!(seconds >= 0)) return;
      if (draft.status.code !== 'ERROR') return batch.record(histogram, set.shared, seconds);
      const errorType = typeof draft.attributes['error.type'] === 'string' ? draft.attributes['error.type'] : '_OTHER';
      batch.record(histogram, extendedSet(set, `error:${errorType}`, 'error.type', errorType), seconds);
    };
    let record: Instruments['record'];
    if (options.names === 'development') {
      const inferenceDuration = durationOf('gen_ai.client.inference.duration');
      const embeddingsDuration = durationOf('gen_ai.client.embeddings.duration');
      const inputTokens = tokensHistogram('gen_ai.client.inference.operation.input_tokens', 'Input tokens of a GenAI inference operation.');
      const outputTokens = tokensHistogram('gen_ai.client.inference.operation.output_tokens', 'Output tokens of a GenAI inference operation.');
      const counters = USAGE_COUNTERS.map(([name, keys]) => [meter.counter(name, { description: 'Tokens used by GenAI inference operations.', unit: '{token}' }), keys] as const);
      record = (draft, set, batch) => {
        const a = draft.attributes;
        const operation = String(a['gen_ai.operation.name']);
        const inference = INFERENCE_OPERATIONS.has(operation);
        recordDuration(draft, set, batch, inference ? inferenceDuration : operation === 'embeddings' ? embeddingsDuration : operationDuration);
        if (inference) {
          const input = tokenCount(a, INPUT_TOKENS);
          const output = tokenCount(a, OUTPUT_TOKENS);
          if (input !== undefined) batch.record(inputTokens, set.shared, input);
          if (output !== undefined) batch.record(outputTokens, set.shared, output);
          // The modality is not known from a Langfuse record: `unknown`, as the conventions say.
          for (const [counter, keys] of counters) {
            const value = tokenCount(a, keys);
            if (value !== undefined) batch.add(counter, extendedSet(set, 'modality', 'gen_ai.token.modality', 'unknown'), value);
          }
        }
        recordCost(a, set, batch);
      };
    } else {
      const tokens = tokensHistogram('gen_ai.client.token.usage', 'Number of input and output tokens used.');
      record = (draft, set, batch) => {
        const a = draft.attributes;
        recordDuration(draft, set, batch, operationDuration);
        const input = tokenCount(a, INPUT_TOKENS);
        const output = tokenCount(a, OUTPUT_TOKENS);
        if (input !== undefined) batch.record(tokens, extendedSet(set, 'input', 'gen_ai.token.type', 'input'), input);
        if (output !== undefined) batch.record(tokens, extendedSet(set, 'output', 'gen_ai.token.type', 'output'), output);
        recordCost(a, set, batch);
      };
    }
    const instruments: Instruments = { provider, record };
    providers.set(key, instruments);
    return instruments;
  };

  const attributeSets = new AttributeSets();
  return {
    record(drafts) {
      const batch = new MeasurementBatch();
      for (const draft of drafts) {
        const a = draft.attributes;
        if (draft.kind !== 'CLIENT' || typeof a['gen_ai.operation.name'] !== 'string') continue;
        const instruments = instrumentsFor(draft.resource);
        if (!instruments) continue;
        instruments.record(draft, attributeSets.of(a), batch);
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
