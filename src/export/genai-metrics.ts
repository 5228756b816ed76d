// GenAI client metrics derived from exported spans, sent over OTLP metrics (http/protobuf,
// http/json or grpc) or printed (console): the semconv histograms gen_ai.client.token.usage and
// gen_ai.client.operation.duration (with the semconv bucket boundaries and attributes) and a cost
// counter. Fed with SpanDrafts after a successful export; owns its MeterProviders, readers and
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
  tokens: Histogram;
  duration: Histogram;
  cost: Counter;
}

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

  const instrumentsFor = (draftResource: DraftAttributes): Instruments | undefined => {
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
    const instruments: Instruments = {
      provider,
      tokens: meter.createHistogram('gen_ai.client.token.usage', {
        description: 'Number of input and output tokens used.',
        unit: '{token}',
        advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS },
      }),
      duration: meter.createHistogram('gen_ai.client.operation.duration', {
        description: 'GenAI operation duration.',
        unit: 's',
        advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS },
      }),
      // Not in the semconv (it has no cost metric): named after the span attribute it sums.
      cost: meter.createCounter('gen_ai.usage.cost', { description: 'Cost of GenAI operations, as sent by the client or estimated.', unit: 'USD' }),
    };
    providers.set(key, instruments);
    return instruments;
  };

  return {
    record(drafts) {
      for (const draft of drafts) {
        const a = draft.attributes;
        if (draft.kind !== 'CLIENT' || typeof a['gen_ai.operation.name'] !== 'string') continue;
        const shared: Attributes = {};
        for (const key of SHARED_KEYS) if (a[key] !== undefined) shared[key] = a[key];
        const instruments = instrumentsFor(draft.resource);
        if (!instruments) continue;
        const durationAttributes: Attributes = { ...shared };
        if (draft.status.code === 'ERROR') durationAttributes['error.type'] = typeof a['error.type'] === 'string' ? a['error.type'] : '_OTHER';
        const seconds = Number(draft.endTimeUnixNano - draft.startTimeUnixNano) / 1e9;
        if (seconds >= 0) instruments.duration.record(seconds, durationAttributes);
        const input = a['gen_ai.usage.input_tokens'];
        const output = a['gen_ai.usage.output_tokens'];
        if (typeof input === 'number' && input >= 0) instruments.tokens.record(input, { ...shared, 'gen_ai.token.type': 'input' });
        if (typeof output === 'number' && output >= 0) instruments.tokens.record(output, { ...shared, 'gen_ai.token.type': 'output' });
        const cost = a['gen_ai.usage.cost'];
        if (typeof cost === 'number' && cost > 0 && Number.isFinite(cost)) {
          const costAttributes: Attributes = { ...shared };
          if (a['langfuse.observation.cost_estimated'] === true) costAttributes['langfuse.observation.cost_estimated'] = true;
          instruments.cost.add(cost, costAttributes);
        }
      }
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
    },
  };
}
