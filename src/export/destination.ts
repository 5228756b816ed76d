// A destination's export side, built once from its resolved config: its lanes, each with its own
// span sink and, for Langfuse, its own score forwarder and the encoding of scores for its scores
// queue. Without tenants there is one lane; with the `tenants:` list, one per tenant the
// destination serves, each with its own queue, so one request never mixes tenants, a tenant's
// headers (`${tenant}`) and key pair (`credentials: tenant`) are its own, and one tenant's backlog
// never delays another's. Secrets stay in the senders built here: queues are named by destination
// and tenant only. Encodes and sends only: mapping files are loaded and compiled by mapping/
// (destination-mappings.ts), and a record is mapped by the pipeline's mapping stage. Never reads
// the environment.
import type { MergedScore } from '../assembly/merge.js';
import { TENANT_PLACEHOLDER, type DestinationConfig, type DestinationType } from '../config/destinations-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { DEFAULT_TENANT_NAME, type Tenancy, type TenantConfig } from '../config/tenants-config.js';
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

/** Where one tenant's (or, without tenants, everyone's) items for a destination go. */
export interface DestinationLane {
  /** The export queue of its spans: the destination's name, or `<name>@<tenant>` with tenants. */
  queue: string;
  /** The `tenant` label of its metrics (`default` without a tenants list). */
  tenant: string;
  /** With a tenants list: the lane takes only this tenant's records. */
  scopedTo?: string;
  sink: SpanSink;
  /** Langfuse only: scores go to its scores API instead of becoming spans. */
  scores?: {
    forwarder: ScoreForwarder;
    /** The queue sink of its scores queue. */
    sink: QueueSink;
    /** A score as its scores queue holds it (ids derived with the lane's tenant). */
    encode(score: MergedScore): Uint8Array;
  };
}

export interface Destination {
  name: string;
  type: DestinationType;
  /** One lane without tenants; with them, one per tenant served (in the order of the tenants list). */
  lanes: DestinationLane[];
  /** Whether content (inputs, outputs, messages, score comments) is kept. */
  captureContent: boolean;
  /** Shuts every lane's sink and score forwarder down (each waits for its attempts in flight). */
  shutdown(): Promise<void>;
}

/** A score as this destination's scores API takes it (the comment only with capture_content). */
export function scorePayloadOf(destination: Pick<Destination, 'captureContent'>, score: MergedScore, tenant?: string): LangfuseScorePayload {
  return toLangfuseScorePayload(score, { captureContent: destination.captureContent, ...(tenant !== undefined ? { tenant } : {}) });
}

export interface DestinationOptions {
  /** Parsed OTEL_RESOURCE_ATTRIBUTES, for every destination. */
  resourceAttributes: Record<string, string>;
  /** OTEL_SERVICE_NAME (or the resource's service.name): `service.name` of every span. */
  serviceName?: string;
  bridgeVersion: string;
  /** Where console destinations print. */
  writeConsole: (text: string) => void;
  /** Who sends: with a `tenants:` list, a lane per tenant and the tenant resource attribute. @defaultValue open */
  tenancy?: Tenancy;
}

/** The instrumentation scope Langfuse reads as its own SDK's (`langfuse-sdk*`: no raw attribute copy in metadata). */
export const LANGFUSE_SCOPE_NAME = 'langfuse-sdk';
/** Opts in to Langfuse v4's direct write path: one observation per span, no legacy trace merge. */
export const LANGFUSE_INGESTION_VERSION = '4';

/** Builds one destination. Throws Error for bad sink options. */
export function createDestination(config: DestinationConfig, options: DestinationOptions): Destination {
  const tenancy = options.tenancy ?? { mode: 'open' };
  const served = tenancy.mode === 'multi' ? tenancy.tenants.filter((t) => config.tenants === undefined || config.tenants.includes(t.name)) : [undefined];
  const lanes = served.map((tenant) => createLane(config, options, tenancy, tenant));
  return {
    name: config.name,
    type: config.type,
    captureContent: config.captureContent,
    lanes,
    async shutdown() {
      await Promise.all(lanes.flatMap((lane) => [lane.sink.shutdown(), ...(lane.scores ? [lane.scores.forwarder.shutdown()] : [])]));
    },
  };
}

/** `${tenant}` in header values, replaced by the lane's tenant. */
function headersFor(headers: Record<string, string>, tenant: TenantConfig | undefined): Record<string, string> {
  if (!tenant) return { ...headers };
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replaceAll(TENANT_PLACEHOLDER, tenant.name)]));
}

/** One lane: `tenant` is undefined without a tenants list. */
function createLane(config: DestinationConfig, options: DestinationOptions, tenancy: Tenancy, tenant: TenantConfig | undefined): DestinationLane {
  const limit = config.attributeValueLengthLimit !== undefined ? { attributeValueLengthLimit: config.attributeValueLengthLimit } : {};
  const countLimit = config.attributeCountLimit !== undefined ? { attributeCountLimit: config.attributeCountLimit } : {};
  const base = {
    queue: tenant ? `${config.name}@${tenant.name}` : config.name,
    tenant: tenant?.name ?? DEFAULT_TENANT_NAME,
    ...(tenant ? { scopedTo: tenant.name } : {}),
  };
  if (config.type === 'console') return { ...base, sink: createConsoleSpanSink({ write: options.writeConsole, ...limit }) };
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
    ...(tenancy.mode === 'multi' ? { tenantAttribute: tenancy.resourceAttribute } : {}),
  };
  const headers = headersFor(config.headers, tenant);
  if (config.type === 'otlp') {
    const sink = config.protocol === 'grpc' ? createGrpcSpanSink({ ...common, headers }) : createOtlpSpanSink({ ...common, protocol: config.protocol, headers });
    return { ...base, sink };
  }
  // `credentials: tenant`: the lane's tenant's own pair, so its traces land in its own project.
  const keys = config.credentials === 'tenant' && tenant ? tenant : config;
  const sink = createOtlpSpanSink({
    ...common,
    protocol: config.protocol,
    headers: {
      ...headers,
      Authorization: basicAuthorization(keys.publicKey, keys.secretKey),
      'x-langfuse-ingestion-version': LANGFUSE_INGESTION_VERSION,
    },
    instrumentationScope: { name: LANGFUSE_SCOPE_NAME, version: options.bridgeVersion },
  });
  const forwarder = createScoreForwarder({
    url: config.scoresUrl,
    publicKey: keys.publicKey,
    secretKey: keys.secretKey,
    timeoutMillis: config.timeoutMillis,
    headers,
    bridgeVersion: options.bridgeVersion,
    ...(config.tls ? { tls: config.tls } : {}),
  });
  return {
    ...base,
    sink,
    scores: {
      forwarder,
      sink: createScoreQueueSink(forwarder),
      encode: (score) => encodeScorePayload(scorePayloadOf(config, score, tenant?.name)),
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
  config: Pick<ServiceConfig, 'destinations' | 'serviceName' | 'resourceAttributes'> & Partial<Pick<ServiceConfig, 'tenancy'>>,
  options: Pick<DestinationOptions, 'bridgeVersion' | 'writeConsole'>,
): Destination[] {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return createDestinations(config.destinations, {
    ...options,
    resourceAttributes: config.resourceAttributes,
    ...(config.tenancy ? { tenancy: config.tenancy } : {}),
    ...(serviceName ? { serviceName } : {}),
  });
}
