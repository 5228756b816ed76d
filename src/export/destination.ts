// A destination, built from its resolved config: its own compiled mapping (with its own
// capture_content) and its lanes: a span sink and, for Langfuse, a score forwarder per lane. Without
// tenants there is one lane; with the `tenants:` list, one per tenant the destination serves, each
// with its own queue, so one request never mixes tenants, a tenant's headers (`${tenant}`) and key
// pair (`credentials: tenant`) are its own, and one tenant's backlog never delays another's. Owns how
// one completed record becomes this destination's work item; queueing and retrying are the export
// worker's. Loads mapping files at startup (through mapping/), never reads the environment.
// Secrets stay in the sinks built here: queues are named by destination and tenant only.
import type { CompletedRecord } from '../assembly/completed-record.js';
import { TENANT_PLACEHOLDER, type DestinationConfig, type DestinationType } from '../config/destinations-config.js';
import type { ServiceConfig } from '../config/service-config.js';
import { DEFAULT_TENANT_NAME, type Tenancy, type TenantConfig } from '../config/tenants-config.js';
import { mapRecord } from '../mapping/apply-mapping.js';
import { compileMapping, type CompiledMapping } from '../mapping/compile-mapping.js';
import { loadMapping, MappingError } from '../mapping/load-mapping.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import { createConsoleSpanSink } from './console-span-sink.js';
import { basicAuthorization, createScoreForwarder, toLangfuseScorePayload, type LangfuseScorePayload, type ScoreForwarder } from './langfuse-scores.js';
import { createOtlpSpanSink, type SpanSink } from './span-sink.js';

/** Where one tenant's (or, without tenants, everyone's) items for a destination go. */
export interface DestinationLane {
  /** The export queue of its spans: the destination's name, or `<name>@<tenant>` with tenants. */
  queue: string;
  /** The `tenant` label of its metrics (`default` without a tenants list). */
  tenant: string;
  sink: SpanSink;
  /** Langfuse only: scores go to its scores API instead of becoming spans. */
  scores?: ScoreForwarder;
}

export interface Destination {
  name: string;
  type: DestinationType;
  mapping: CompiledMapping;
  /** One lane without tenants; with them, one per tenant served (in the order of the tenants list). */
  lanes: DestinationLane[];
  /** A tenants list is configured: lanes are per tenant, and records of tenants it does not serve are skipped. */
  perTenant: boolean;
  /** Whether content (inputs, outputs, messages, score comments) is kept. */
  captureContent: boolean;
  /** Shuts every lane's sink and score forwarder down (each waits for its attempts in flight). */
  shutdown(): Promise<void>;
}

/** The queue of a lane's scores (sent to a Langfuse scores API, not as spans). */
export function scoresQueueOf(lane: DestinationLane): string {
  return `${lane.queue}#scores`;
}

/**
 * The lane a record goes to: the only one without tenants; its tenant's with them, or none when
 * the destination does not serve that tenant. A record without a tenant where tenants are
 * configured (stored before the list existed) belongs to no tenant: it is refused (dead letters),
 * never given to some tenant's backend.
 */
export function laneFor(destination: Destination, tenant: string | undefined): DestinationLane | undefined {
  if (!destination.perTenant) return destination.lanes[0];
  if (tenant === undefined) throw new Error('the record has no tenant, and tenants are configured (it was stored before the tenants list existed)');
  return destination.lanes.find((lane) => lane.tenant === tenant);
}

/** What one completed record is for one destination: a span draft, or a score for its scores API. */
export type DestinationItem = { kind: 'span'; draft: SpanDraft } | { kind: 'score'; score: LangfuseScorePayload };

/** The tenant of a completed record, if it has one. */
export function tenantOfRecord(record: CompletedRecord): string | undefined {
  return record.kind === 'passthrough' ? record.span.tenant : record.source.tenant;
}

/** The record as this destination takes it in `lane` (default: its first). Pure; call once per destination. */
export function toDestinationItem(destination: Destination, record: CompletedRecord, lane: DestinationLane | undefined = destination.lanes[0]): DestinationItem {
  if (record.kind === 'score' && lane?.scores) {
    const tenant = record.source.tenant;
    return { kind: 'score', score: toLangfuseScorePayload(record.score, { captureContent: destination.captureContent, ...(tenant !== undefined ? { tenant } : {}) }) };
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
  /** Who sends: with a `tenants:` list, a lane per tenant and the tenant resource attribute. @defaultValue open */
  tenancy?: Tenancy;
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
  const tenancy = options.tenancy ?? { mode: 'open' };
  const perTenant = tenancy.mode === 'multi';
  const served = perTenant ? tenancy.tenants.filter((t) => config.tenants === undefined || config.tenants.includes(t.name)) : [undefined];
  const lanes = served.map((tenant) => createLane(config, options, tenancy, tenant));
  return {
    name: config.name,
    type: config.type,
    mapping,
    captureContent: config.captureContent,
    lanes,
    perTenant,
    async shutdown() {
      await Promise.all(lanes.flatMap((lane) => [lane.sink.shutdown(), ...(lane.scores ? [lane.scores.shutdown()] : [])]));
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
  const base = { queue: tenant ? `${config.name}@${tenant.name}` : config.name, tenant: tenant?.name ?? DEFAULT_TENANT_NAME };
  if (config.type === 'console') {
    return { ...base, sink: createConsoleSpanSink({ write: options.writeConsole, ...limit }) };
  }
  const common = {
    protocol: config.protocol,
    url: config.url,
    timeoutMillis: config.timeoutMillis,
    compression: config.compression,
    resourceAttributes: options.resourceAttributes,
    ...(options.serviceName ? { serviceNameOverride: options.serviceName } : {}),
    ...limit,
    bridgeVersion: options.bridgeVersion,
    ...(tenancy.mode === 'multi' ? { tenantAttribute: tenancy.resourceAttribute } : {}),
  };
  const headers = headersFor(config.headers, tenant);
  if (config.type === 'otlp') return { ...base, sink: createOtlpSpanSink({ ...common, headers }) };
  // `credentials: tenant`: the lane's tenant's own pair, so its traces land in its own project.
  const keys = config.credentials === 'tenant' && tenant ? tenant : config;
  const sink = createOtlpSpanSink({
    ...common,
    headers: {
      ...headers,
      Authorization: basicAuthorization(keys.publicKey, keys.secretKey),
      'x-langfuse-ingestion-version': LANGFUSE_INGESTION_VERSION,
    },
    instrumentationScope: { name: LANGFUSE_SCOPE_NAME, version: options.bridgeVersion },
  });
  const scores = createScoreForwarder({
    url: config.scoresUrl,
    publicKey: keys.publicKey,
    secretKey: keys.secretKey,
    timeoutMillis: config.timeoutMillis,
    headers,
    bridgeVersion: options.bridgeVersion,
  });
  return { ...base, sink, scores };
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
  config: Pick<ServiceConfig, 'destinations' | 'serviceName' | 'resourceAttributes' | 'estimateCost' | 'tenancy'>,
  options: Pick<DestinationOptions, 'bridgeVersion' | 'writeConsole' | 'cwd'>,
): Destination[] {
  const serviceName = config.serviceName ?? config.resourceAttributes['service.name'];
  return createDestinations(config.destinations, {
    ...options,
    resourceAttributes: config.resourceAttributes,
    estimateCost: config.estimateCost,
    tenancy: config.tenancy,
    ...(serviceName ? { serviceName } : {}),
  });
}
