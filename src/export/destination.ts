// A destination, built from its resolved config: its own compiled mapping (with its own
// capture_content), its own span sink and, for Langfuse, its own score forwarder. Owns how one
// completed record becomes this destination's work item; queueing and retrying are the export
// worker's. Loads mapping files at startup (through mapping/), never reads the environment.
import type { CompletedRecord } from '../assembly/completed-record.js';
import type { DestinationConfig, DestinationType } from '../config/destinations-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { mapRecord } from '../mapping/apply-mapping.js';
import { compileMapping, type CompiledMapping } from '../mapping/compile-mapping.js';
import { loadMapping, MappingError } from '../mapping/load-mapping.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import { createConsoleSpanSink } from './console-span-sink.js';
import { basicAuthorization, createScoreForwarder, toLangfuseScorePayload, type LangfuseScorePayload, type ScoreForwarder } from './langfuse-scores.js';
import { createGrpcSpanSink } from './grpc-span-sink.js';
import { createOtlpSpanSink, type SpanSink } from './span-sink.js';

export interface Destination {
  name: string;
  type: DestinationType;
  mapping: CompiledMapping;
  sink: SpanSink;
  /** Langfuse only: scores go to its scores API instead of becoming spans. */
  scores?: ScoreForwarder;
  /** Whether content (inputs, outputs, messages, score comments) is kept. */
  captureContent: boolean;
  /** Shuts the sink and the score forwarder down (each waits for its attempts in flight). */
  shutdown(): Promise<void>;
}

/** What one completed record is for one destination: a span draft, or a score for its scores API. */
export type DestinationItem = { kind: 'span'; draft: SpanDraft } | { kind: 'score'; score: LangfuseScorePayload };

/** The record as this destination takes it. Pure; call once per destination. */
export function toDestinationItem(destination: Destination, record: CompletedRecord): DestinationItem {
  if (record.kind === 'score' && destination.scores) {
    return { kind: 'score', score: toLangfuseScorePayload(record.score, { captureContent: destination.captureContent }) };
  }
  return { kind: 'span', draft: mapRecord(destination.mapping, record) };
}

export interface DestinationOptions {
  /** Parsed OTEL_RESOURCE_ATTRIBUTES, for every destination. */
  resourceAttributes: Record<string, string>;
  /** OTEL_SERVICE_NAME (or the resource's service.name): `service.name` of every span. */
  serviceName?: string;
  bridgeVersion: string;
  /** Where console destinations print. */
  writeConsole: (text: string) => void;
  /** Base directory of relative mapping paths. */
  cwd?: string;
  /** BRIDGE_ESTIMATE_COST: price usage without a cost with genai-prices. @defaultValue true */
  estimateCost?: boolean;
}

/** The instrumentation scope Langfuse reads as its own SDK's (`langfuse-sdk*`: no raw attribute copy in metadata). */
export const LANGFUSE_SCOPE_NAME = 'langfuse-sdk';
/** Opts in to Langfuse v4's direct write path: one observation per span, no legacy trace merge. */
export const LANGFUSE_INGESTION_VERSION = '4';

/** Builds one destination. Throws MappingError for a bad mapping, Error for bad sink options. */
export function createDestination(config: DestinationConfig, options: DestinationOptions): Destination {
  const mapping = compileMapping(loadMapping(config.mapping, options.cwd), {
    captureContent: config.captureContent,
    ...(options.estimateCost !== undefined ? { estimateCost: options.estimateCost } : {}),
  });
  const limit = config.attributeValueLengthLimit !== undefined ? { attributeValueLengthLimit: config.attributeValueLengthLimit } : {};
  const countLimit = config.attributeCountLimit !== undefined ? { attributeCountLimit: config.attributeCountLimit } : {};
  const base = { name: config.name, type: config.type, mapping, captureContent: config.captureContent };
  if (config.type === 'console') {
    const sink = createConsoleSpanSink({ write: options.writeConsole, ...limit });
    return { ...base, sink, shutdown: () => sink.shutdown() };
  }
  const common = {
    url: config.url,
    timeoutMillis: config.timeoutMillis,
    compression: config.compression,
    resourceAttributes: options.resourceAttributes,
    ...(options.serviceName ? { serviceNameOverride: options.serviceName } : {}),
    ...limit,
    ...countLimit,
    bridgeVersion: options.bridgeVersion,
    ...(config.tls ? { tls: config.tls } : {}),
  };
  if (config.type === 'otlp') {
    const sink =
      config.protocol === 'grpc'
        ? createGrpcSpanSink({ ...common, headers: config.headers })
        : createOtlpSpanSink({ ...common, protocol: config.protocol, headers: config.headers });
    return { ...base, sink, shutdown: () => sink.shutdown() };
  }
  const sink = createOtlpSpanSink({
    ...common,
    protocol: config.protocol,
    headers: {
      ...config.headers,
      Authorization: basicAuthorization(config.publicKey, config.secretKey),
      'x-langfuse-ingestion-version': LANGFUSE_INGESTION_VERSION,
    },
    instrumentationScope: { name: LANGFUSE_SCOPE_NAME, version: options.bridgeVersion },
  });
  const scores = createScoreForwarder({
    url: config.scoresUrl,
    publicKey: config.publicKey,
    secretKey: config.secretKey,
    timeoutMillis: config.timeoutMillis,
    headers: config.headers,
    bridgeVersion: options.bridgeVersion,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  return {
    ...base,
    sink,
    scores,
    async shutdown() {
      await Promise.all([sink.shutdown(), scores.shutdown()]);
    },
  };
}

/** Every destination, or one MappingError listing the mapping problems of all of them. */
export function createDestinations(configs: readonly DestinationConfig[], options: DestinationOptions): Destination[] {
  const issues: string[] = [];
  const built: Destination[] = [];
  for (const config of configs) {
    try {
      built.push(createDestination(config, options));
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      issues.push(...error.issues.map((issue) => `destination '${config.name}': ${issue}`));
    }
  }
  if (issues.length > 0) {
    void Promise.all(built.map((d) => d.shutdown()));
    throw new MappingError(issues);
  }
  return built;
}

/**
 * The destinations of a resolved ServiceConfig, with the service-level resource settings:
 * `service.name` is OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES, else the
 * sender's (OTel's order, as for the single OTLP sink).
 */
export function createServiceDestinations(
  config: Pick<ServiceConfig, 'destinations' | 'serviceName' | 'resourceAttributes' | 'estimateCost'>,
  options: Pick<DestinationOptions, 'bridgeVersion' | 'writeConsole' | 'cwd'>,
): Destination[] {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return createDestinations(config.destinations, {
    ...options,
    resourceAttributes: config.resourceAttributes,
    estimateCost: config.estimateCost,
    ...(serviceName ? { serviceName } : {}),
  });
}
