// A destination's export side, built once from its resolved config: its own span sink and, for
// Langfuse, its own score forwarder and the encoding of scores for its scores queue. Encodes and
// sends only: mapping files are loaded and compiled by mapping/ (destination-mappings.ts), and a
// record is mapped by the pipeline's mapping stage. Never reads the environment.
import type { MergedScore } from '../assembly/merge.js';
import type { DestinationConfig, DestinationType } from '../config/destinations-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { createConsoleSpanSink } from './console-span-sink.js';
import { createGrpcSpanSink } from './grpc-span-sink.js';
import {
  basicAuthorization,
  createScoreForwarder,
  createScoreQueueSink,
  encodeScorePayload,
  toLangfuseScorePayload,
  type LangfuseScorePayload,
  type ScoreForwarder,
} from './langfuse-scores.js';
import { createOtlpSpanSink, type QueueSink, type SpanSink } from './span-sink.js';

export interface Destination {
  name: string;
  type: DestinationType;
  sink: SpanSink;
  /** Langfuse only: scores go to its scores API instead of becoming spans. */
  scores?: {
    forwarder: ScoreForwarder;
    /** The queue sink of its scores queue. */
    sink: QueueSink;
    /** A score as its scores queue holds it. */
    encode(score: MergedScore): Uint8Array;
  };
  /** Whether content (inputs, outputs, messages, score comments) is kept. */
  captureContent: boolean;
  /** Shuts the sink and the score forwarder down (each waits for its attempts in flight). */
  shutdown(): Promise<void>;
}

/** A score as this destination's scores API takes it (the comment only with capture_content). */
export function scorePayloadOf(destination: Pick<Destination, 'captureContent'>, score: MergedScore): LangfuseScorePayload {
  return toLangfuseScorePayload(score, { captureContent: destination.captureContent });
}

export interface DestinationOptions {
  /** Parsed OTEL_RESOURCE_ATTRIBUTES, for every destination. */
  resourceAttributes: Record<string, string>;
  /** OTEL_SERVICE_NAME (or the resource's service.name): `service.name` of every span. */
  serviceName?: string;
  bridgeVersion: string;
  /** Where console destinations print. */
  writeConsole: (text: string) => void;
}

/** The instrumentation scope Langfuse reads as its own SDK's (`langfuse-sdk*`: no raw attribute copy in metadata). */
export const LANGFUSE_SCOPE_NAME = 'langfuse-sdk';
/** Opts in to Langfuse v4's direct write path: one observation per span, no legacy trace merge. */
export const LANGFUSE_INGESTION_VERSION = '4';

/** Builds one destination. Throws Error for bad sink options. */
export function createDestination(config: DestinationConfig, options: DestinationOptions): Destination {
  const limit = config.attributeValueLengthLimit !== undefined ? { attributeValueLengthLimit: config.attributeValueLengthLimit } : {};
  const countLimit = config.attributeCountLimit !== undefined ? { attributeCountLimit: config.attributeCountLimit } : {};
  const base = { name: config.name, type: config.type, captureContent: config.captureContent };
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
    scores: {
      forwarder: scores,
      sink: createScoreQueueSink(scores),
      encode: (score) => encodeScorePayload(scorePayloadOf(base, score)),
    },
    async shutdown() {
      await Promise.all([sink.shutdown(), scores.shutdown()]);
    },
  };
}

/** Every destination; on a failure, the ones already built are shut down. */
export function createDestinations(configs: readonly DestinationConfig[], options: DestinationOptions): Destination[] {
  const built: Destination[] = [];
  try {
    for (const config of configs) built.push(createDestination(config, options));
  } catch (error) {
    void Promise.all(built.map((d) => d.shutdown()));
    throw error;
  }
  return built;
}

/**
 * The destinations of a resolved ServiceConfig, with the service-level resource settings:
 * `service.name` is OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES, else the
 * sender's (OTel's order, as for the single OTLP sink).
 */
export function createServiceDestinations(
  config: Pick<ServiceConfig, 'destinations' | 'serviceName' | 'resourceAttributes'>,
  options: Pick<DestinationOptions, 'bridgeVersion' | 'writeConsole'>,
): Destination[] {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return createDestinations(config.destinations, {
    ...options,
    resourceAttributes: config.resourceAttributes,
    ...(serviceName ? { serviceName } : {}),
  });
}
