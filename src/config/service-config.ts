// The service's settings: one zod schema, resolved once from a plain env object.
// Pure: never reads process.env itself (main.ts passes it in), never exits.
import { z } from 'zod';
import { resolveKafkaConfig, type KafkaConfig } from './kafka-config.js';
import { httpUrlSchema as url, MAX_TIMER_MILLIS, protocolSchema as protocol, resolveDestinations, type DestinationConfig, type FileSections } from './destinations-config.js';
import { resolveTenancy, type Tenancy } from './tenants-config.js';
import { DEFAULT_METRIC_EXPORT_TIMEOUT_MILLIS, resolveMetrics, type MetricsConfig } from './metrics-config.js';
import { tlsFromEnv, type TlsMaterial } from './tls-config.js';

/** A startup problem; `issues` lists every bad setting at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

export type Env = Record<string, string | undefined>;

const intFrom = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, `a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `a whole number from ${min} to ${max}`).max(max, `a whole number from ${min} to ${max}`));

// Node timers hold at most 2^31-1 ms; a longer delay fires after 1 ms (with a TimeoutOverflowWarning),
// so an export timeout of 99999999999 would time every attempt out at once. Durations that feed a
// timer are refused above it instead.
const timerMillis = (min: number) => intFrom(min, MAX_TIMER_MILLIS);

const bool = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], 'one of true, false, 1, 0, yes, no'))
  .transform((s) => s === 'true' || s === '1' || s === 'yes');

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'one of fatal, error, warn, info, debug, trace, silent');

/** Each setting: the variable that sets it, its schema, and its default (as the env string). */
const SETTINGS = {
  host: { env: 'BRIDGE_HOST', schema: z.string().min(1, 'a host name or address'), default: '127.0.0.1' },
  port: { env: 'BRIDGE_PORT', schema: intFrom(0, 65535), default: '3000' },
  mapping: { env: 'BRIDGE_MAPPING', schema: z.string().min(1, 'a preset name or a file path'), default: 'genai' },
  traceIdleMillis: { env: 'BRIDGE_TRACE_IDLE_MS', schema: intFrom(0), default: '10000' },
  observationTimeoutMillis: { env: 'BRIDGE_OBSERVATION_TIMEOUT_MS', schema: intFrom(1), default: '600000' },
  captureContent: { env: 'BRIDGE_CAPTURE_CONTENT', schema: bool, default: 'true' },
  estimateCost: { env: 'BRIDGE_ESTIMATE_COST', schema: bool, default: 'true' },
  metricsEnabled: { env: 'BRIDGE_METRICS', schema: bool, default: 'true' },
  metricsNames: { env: 'BRIDGE_METRICS_NAMES', schema: z.enum(['released', 'development'], 'released or development'), default: 'released' },
  dataDir: { env: 'BRIDGE_DATA_DIR', schema: z.string().min(1, 'a directory path'), default: './data' },
  store: { env: 'BRIDGE_STORE', schema: z.enum(['sqlite', 'memory'], 'sqlite or memory'), default: 'sqlite' },
  spoolMaxBytes: { env: 'BRIDGE_SPOOL_MAX_BYTES', schema: intFrom(1), default: String(1024 ** 3) },
  memoryLimitMib: { env: 'BRIDGE_MEMORY_LIMIT_MIB', schema: intFrom(16), default: '' },
  heapGrowingPercent: { env: 'BRIDGE_HEAP_GROWING_PERCENT', schema: intFrom(0, 1000), default: '70' },
  maxBodyBytes: { env: 'BRIDGE_MAX_BODY_BYTES', schema: intFrom(1), default: String(4.5 * 1024 * 1024) },
  maxEventsPerRequest: { env: 'BRIDGE_MAX_EVENTS_PER_REQUEST', schema: intFrom(1), default: '10000' },
  maxErrorsPerResponse: { env: 'BRIDGE_MAX_ERRORS_PER_RESPONSE', schema: intFrom(1), default: '100' },
  maxConnections: { env: 'BRIDGE_MAX_CONNECTIONS', schema: intFrom(1), default: '1024' },
  storeOnCorrupt: { env: 'BRIDGE_STORE_ON_CORRUPT', schema: z.enum(['refuse', 'quarantine'], 'refuse or quarantine'), default: 'refuse' },
  storeReserveBytes: { env: 'BRIDGE_STORE_RESERVE_BYTES', schema: intFrom(0), default: String(16 * 1024 * 1024) },
  shutdownTimeoutMillis: { env: 'BRIDGE_SHUTDOWN_TIMEOUT_MS', schema: timerMillis(0), default: '10000' },
  tombstoneRetentionMillis: { env: 'BRIDGE_TOMBSTONE_RETENTION_MS', schema: intFrom(0), default: String(24 * 3600 * 1000) },
  exportBatchSize: { env: 'BRIDGE_EXPORT_BATCH_SIZE', schema: intFrom(1, 100000), default: '512' },
  exportLingerMillis: { env: 'BRIDGE_EXPORT_LINGER_MS', schema: intFrom(0, 60000), default: '50' },
  exportFailureSummaryMillis: { env: 'BRIDGE_EXPORT_FAILURE_SUMMARY_MS', schema: intFrom(1000), default: '60000' },
  logLevel: { env: 'BRIDGE_LOG_LEVEL', schema: logLevel, default: 'info' },
  publicKey: { env: 'LANGFUSE_PUBLIC_KEY', schema: z.string(), default: '' },
  secretKey: { env: 'LANGFUSE_SECRET_KEY', schema: z.string(), default: '' },
  // Empty is unset (the SDK environment specification); only blanks is refused rather than
  // trimmed to unset, since it is a slip (a quoted space) that would otherwise label every span ' '.
  serviceName: { env: 'OTEL_SERVICE_NAME', schema: z.string().refine((name) => name.trim() !== '', 'a service name, not only blanks; leave it empty for none'), default: '' },
  resourceAttributes: { env: 'OTEL_RESOURCE_ATTRIBUTES', schema: z.string(), default: '' },
  attributeValueLengthLimit: { env: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', schema: intFrom(1), default: '' },
  attributeCountLimit: { env: 'OTEL_ATTRIBUTE_COUNT_LIMIT', schema: intFrom(0), default: '' },
  spanAttributeValueLengthLimit: { env: 'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', schema: intFrom(1), default: '' },
  spanAttributeCountLimit: { env: 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', schema: intFrom(0), default: '' },
  // Checked, and nothing to cut: exported spans carry no events or links (the mapping makes none).
  spanEventCountLimit: { env: 'OTEL_SPAN_EVENT_COUNT_LIMIT', schema: intFrom(0), default: '' },
  spanLinkCountLimit: { env: 'OTEL_SPAN_LINK_COUNT_LIMIT', schema: intFrom(0), default: '' },
  eventAttributeCountLimit: { env: 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', schema: intFrom(0), default: '' },
  linkAttributeCountLimit: { env: 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', schema: intFrom(0), default: '' },
  sdkDisabled: {
    env: 'OTEL_SDK_DISABLED',
    schema: bool.refine((disabled) => !disabled, 'false: the bridge is an exporter and cannot run with its SDK disabled (to export nothing, stop it; to see spans, set OTEL_TRACES_EXPORTER=console)'),
    default: 'false',
  },
  configFileOtel: { env: 'OTEL_CONFIG_FILE', schema: z.never('no value: declarative configuration files are not supported; put destinations in a BRIDGE_CONFIG file'), default: '' },
  metricsHistogramAggregation: {
    env: 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
    schema: z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(['explicit_bucket_histogram'], 'explicit_bucket_histogram: the GenAI histograms use the semantic conventions\' explicit bucket boundaries')),
    default: 'explicit_bucket_histogram',
  },
  otlpEndpoint: { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', schema: url, default: 'http://localhost:4318' },
  otlpTracesEndpoint: { env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', schema: url, default: '' },
  otlpProtocol: { env: 'OTEL_EXPORTER_OTLP_PROTOCOL', schema: protocol, default: 'http/protobuf' },
  otlpTracesProtocol: { env: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', schema: protocol, default: '' },
  otlpHeaders: { env: 'OTEL_EXPORTER_OTLP_HEADERS', schema: z.string(), default: '' },
  otlpTracesHeaders: { env: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', schema: z.string(), default: '' },
  otlpTimeoutMillis: { env: 'OTEL_EXPORTER_OTLP_TIMEOUT', schema: timerMillis(1), default: '10000' },
  otlpTracesTimeoutMillis: { env: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', schema: timerMillis(1), default: '' },
  otlpCompression: { env: 'OTEL_EXPORTER_OTLP_COMPRESSION', schema: z.enum(['gzip', 'none'], 'gzip or none'), default: 'none' },
  otlpTracesCompression: { env: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', schema: z.enum(['gzip', 'none'], 'gzip or none'), default: '' },
  configFile: { env: 'BRIDGE_CONFIG', schema: z.string().min(1, 'a file path'), default: '' },
  tracesExporter: { env: 'OTEL_TRACES_EXPORTER', schema: z.string(), default: '' },
  langfuseHost: { env: 'BRIDGE_LANGFUSE_HOST', schema: url, default: '' },
  langfusePublicKey: { env: 'BRIDGE_LANGFUSE_PUBLIC_KEY', schema: z.string(), default: '' },
  langfuseSecretKey: { env: 'BRIDGE_LANGFUSE_SECRET_KEY', schema: z.string(), default: '' },
  otlpMetricsEndpoint: { env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', schema: url, default: '' },
  otlpMetricsProtocol: { env: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', schema: protocol, default: '' },
  otlpMetricsHeaders: { env: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', schema: z.string(), default: '' },
  otlpMetricsTimeoutMillis: { env: 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', schema: timerMillis(1), default: '' },
  otlpMetricsCompression: { env: 'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', schema: z.enum(['gzip', 'none'], 'gzip or none'), default: '' },
  metricExportIntervalMillis: { env: 'OTEL_METRIC_EXPORT_INTERVAL', schema: timerMillis(100), default: '60000' },
  metricExportTimeoutMillis: { env: 'OTEL_METRIC_EXPORT_TIMEOUT', schema: timerMillis(1), default: String(DEFAULT_METRIC_EXPORT_TIMEOUT_MILLIS) },
  metricsExporter: { env: 'OTEL_METRICS_EXPORTER', schema: z.string(), default: '' },
  metricsTemporality: {
    env: 'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
    schema: z
      .string()
      .transform((s) => s.trim().toLowerCase())
      .pipe(z.enum(['cumulative', 'delta', 'lowmemory'], 'cumulative, delta or lowmemory')),
    default: 'cumulative',
  },
} as const;

type Settings = typeof SETTINGS;
type Raw = { [K in keyof Settings]: z.output<Settings[K]['schema']> | undefined };

export interface ServiceConfig {
  host: string;
  port: number;
  mapping: string;
  traceIdleMillis: number;
  observationTimeoutMillis: number;
  captureContent: boolean;
  /** Estimate a cost from usage when the client sent none (@pydantic/genai-prices). */
  estimateCost: boolean;
  dataDir: string;
  store: 'sqlite' | 'memory';
  spoolMaxBytes: number;
  /** Soft memory limit: past it, batches are refused with 503 until RSS is back under it. */
  memoryLimitBytes: number;
  maxBodyBytes: number;
  /** Events in one ingestion request; more is refused whole (413) before any is validated. */
  maxEventsPerRequest: number;
  /** Errors listed in a 207; the rest are summed up in one last entry. */
  maxErrorsPerResponse: number;
  /** Concurrent TCP connections (server.maxConnections); more are closed on accept. */
  maxConnections: number;
  /** What to do at start with a store that is not a sound SQLite file. */
  storeOnCorrupt: 'refuse' | 'quarantine';
  /** Size of the reserve file next to the store, released when the disk fills (0: none). */
  storeReserveBytes: number;
  shutdownTimeoutMillis: number;
  tombstoneRetentionMillis: number;
  exportBatchSize: number;
  /** How long an export worker waits to fill a batch before sending less. */
  exportLingerMillis: number;
  /** Failing exports are logged once, then summed up in one line per this interval. */
  exportFailureSummaryMillis: number;
  /**
   * How much V8 lets the old generation grow past its live size after a full collection, in
   * percent (`--heap-growing-percent`, set by `serve`); 0: V8's own choice (up to 4×).
   */
  heapGrowingPercent: number;
  logLevel: z.output<typeof logLevel>;
  /**
   * Who may send: the file's `tenants:` list, the env pair LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY
   * (one tenant, `default`), or nobody named (open mode).
   */
  tenancy: Tenancy;
  serviceName?: string;
  resourceAttributes: Record<string, string>;
  /** OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT. */
  attributeValueLengthLimit?: number;
  /** OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, else OTEL_ATTRIBUTE_COUNT_LIMIT; unset: no limit. */
  attributeCountLimit?: number;
  otlp: {
    url: string;
    protocol: 'http/protobuf' | 'http/json' | 'grpc';
    headers: Record<string, string>;
    timeoutMillis: number;
    compression: 'gzip' | 'none';
    tls?: TlsMaterial;
  };
  /**
   * Where spans go, each with its own mapping and sink: the BRIDGE_CONFIG file's list, or without
   * one the `otlp` destination above (plus `console` and `langfuse` from the environment).
   */
  destinations: DestinationConfig[];
  /** Gateway mode (BRIDGE_KAFKA_BROKERS): the log is a Kafka topic shared by every replica. */
  kafka?: KafkaConfig;
  /** GenAI metrics derived from the exported spans (gen_ai.client.* histograms, cost counter). */
  metrics: MetricsConfig;
  /** Settings that were corrected, to log once at start (main.ts). */
  warnings: string[];
}

/** Documentation of every setting, for the README table and `--help`. */
export function describeSettings(): Array<{ env: string; default: string }> {
  return Object.values(SETTINGS).map((s) => ({ env: s.env, default: s.default }));
}

/** Facts about the machine that defaults depend on; main.ts finds them. */
export interface HostFacts {
  /** The cgroup's memory limit (`memory.max`), when there is one. */
  cgroupMemoryLimitBytes?: number;
}

const MIB = 1024 * 1024;

/**
 * BRIDGE_MEMORY_LIMIT_MIB when set; else 80% of the cgroup limit, as the Collector's
 * memory_limiter is usually set, leaving room for what RSS does not show in time (GC, buffers);
 * else 512 MiB.
 */
function memoryLimitBytes(mib: number | undefined, host: HostFacts): number {
  if (mib !== undefined) return mib * MIB;
  if (host.cgroupMemoryLimitBytes !== undefined) return Math.floor(host.cgroupMemoryLimitBytes * 0.8);
  return 512 * MIB;
}

/**
 * Resolves the configuration from an env object (overrides win over env, env over defaults).
 * Throws one ConfigError naming every bad variable, what was expected and the value received.
 */
export function loadServiceConfig(env: Env, overrides: Env = {}, host: HostFacts = {}): ServiceConfig {
  const issues: string[] = [];
  const raw = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const given = overrides[setting.env] ?? env[setting.env];
    const value = given === undefined || given === '' ? setting.default : given;
    if (value === '') {
      raw[key] = undefined;
      continue;
    }
    const parsed = (setting.schema as z.ZodType).safeParse(value);
    if (parsed.success) raw[key] = parsed.data;
    else {
      const expected = parsed.error.issues[0]?.message ?? 'a valid value';
      issues.push(`${setting.env} is invalid: expected ${expected} (actual: '${value}')`);
    }
  }
  const r = raw as Raw;

  // An error names the variable the value came from; the general one is reported once, not per signal.
  const tracesHeadersVariable = r.otlpTracesHeaders !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const metricsHeadersVariable = r.otlpMetricsHeaders !== undefined ? 'OTEL_EXPORTER_OTLP_METRICS_HEADERS' : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = parseKeyValueList(String(r.otlpTracesHeaders ?? r.otlpHeaders ?? ''), tracesHeadersVariable, issues);
  const metricsHeaders = parseKeyValueList(String(r.otlpMetricsHeaders ?? r.otlpHeaders ?? ''), metricsHeadersVariable, metricsHeadersVariable === tracesHeadersVariable ? [] : issues);
  const resourceAttributes = parseKeyValueList(String(r.resourceAttributes ?? ''), 'OTEL_RESOURCE_ATTRIBUTES', issues);
  const publicKey = String(r.publicKey ?? '');
  const secretKey = String(r.secretKey ?? '');
  if ((publicKey === '') !== (secretKey === '')) {
    issues.push(
      `LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY must be set together (actual: ${publicKey ? 'only the public key' : 'only the secret key'} is set)`,
    );
  }
  const given = (name: string) => {
    const value = overrides[name] ?? env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const fileSections: FileSections = {};
  // The span-specific limits win over the general attribute limits (SDK environment specification).
  // Unset count: no limit. The SDKs' default of 128 would cut OpenInference's flattened messages.
  const valueLength = r.spanAttributeValueLengthLimit ?? r.attributeValueLengthLimit;
  const count = r.spanAttributeCountLimit ?? r.attributeCountLimit;
  const limits = { ...(valueLength !== undefined ? { attributeValueLengthLimit: valueLength } : {}), ...(count !== undefined ? { attributeCountLimit: count } : {}) };
  const merged = { ...env, ...overrides };
  const tracesTls = tlsFromEnv(merged, 'TRACES', issues);
  const metricsTls = tlsFromEnv(merged, 'METRICS', issues);
  // The signal-specific endpoint is used as is; the generic one per protocol (signalUrl).
  const generalEndpoint = given('OTEL_EXPORTER_OTLP_ENDPOINT') === undefined ? undefined : r.otlpEndpoint;
  const tracesProtocol = r.otlpTracesProtocol ?? r.otlpProtocol ?? 'http/protobuf';
  const otlp = {
    url: r.otlpTracesEndpoint ?? signalUrl(generalEndpoint, tracesProtocol, 'traces'),
    protocol: tracesProtocol,
    headers,
    timeoutMillis: r.otlpTracesTimeoutMillis ?? r.otlpTimeoutMillis ?? 10_000,
    compression: r.otlpTracesCompression ?? r.otlpCompression ?? 'none',
    ...(tracesTls ? { tls: tracesTls } : {}),
  } as const;
  const resolved = resolveDestinations(
    {
      ...(r.configFile !== undefined ? { configFile: r.configFile } : {}),
      ...(given('OTEL_TRACES_EXPORTER') !== undefined ? { tracesExporter: given('OTEL_TRACES_EXPORTER')! } : {}),
      otlpEndpointGiven: given('OTEL_EXPORTER_OTLP_ENDPOINT') !== undefined || given('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== undefined,
      otlp,
      langfuse: {
        ...(given('BRIDGE_LANGFUSE_HOST') !== undefined ? { host: r.langfuseHost ?? given('BRIDGE_LANGFUSE_HOST')! } : {}),
        ...(given('BRIDGE_LANGFUSE_PUBLIC_KEY') !== undefined ? { publicKey: r.langfusePublicKey } : {}),
        ...(given('BRIDGE_LANGFUSE_SECRET_KEY') !== undefined ? { secretKey: r.langfuseSecretKey } : {}),
      },
      defaults: { mapping: r.mapping ?? 'genai', captureContent: r.captureContent ?? true, ...limits },
      env: { ...env, ...overrides },
      cwd: process.cwd(),
    },
    issues,
    fileSections,
  );
  const destinations = resolved.destinations;
  const tenancy = resolveTenancy(
    {
      ...(resolved.file ? { file: resolved.file } : {}),
      ...(publicKey !== '' && secretKey !== '' ? { envPair: { publicKey, secretKey } } : {}),
    },
    issues,
  );
  // The file's kafka: section, with the environment's BRIDGE_KAFKA_* winning.
  const kafka = resolveKafkaConfig({ ...fileSections.kafkaEnv, ...definedOnly({ ...env, ...overrides }) }, issues);
  const metricsProtocol = r.otlpMetricsProtocol ?? r.otlpProtocol ?? 'http/protobuf';
  const metricsUrl = r.otlpMetricsEndpoint ?? signalUrl(generalEndpoint, metricsProtocol, 'metrics');
  const warnings: string[] = [];
  const metrics = resolveMetrics(
    {
      bridgeMetrics: r.metricsEnabled ?? true,
      ...(given('OTEL_METRICS_EXPORTER') !== undefined ? { exporter: given('OTEL_METRICS_EXPORTER')! } : {}),
      url: metricsUrl,
      protocol: metricsProtocol,
      headers: metricsHeaders,
      timeoutMillis: r.otlpMetricsTimeoutMillis ?? r.otlpTimeoutMillis ?? 10_000,
      compression: r.otlpMetricsCompression ?? r.otlpCompression ?? 'none',
      exportIntervalMillis: r.metricExportIntervalMillis ?? 60_000,
      exportTimeoutMillis: r.metricExportTimeoutMillis ?? DEFAULT_METRIC_EXPORT_TIMEOUT_MILLIS,
      temporality: r.metricsTemporality ?? 'cumulative',
      names: r.metricsNames ?? 'released',
      ...(metricsTls ? { tls: metricsTls } : {}),
    },
    issues,
    warnings,
  );
  // A general variable read for two signals (OTEL_EXPORTER_OTLP_CERTIFICATE) is reported once.
  if (issues.length > 0) throw new ConfigError([...new Set(issues)]);

  return {
    host: r.host!,
    port: r.port!,
    mapping: r.mapping!,
    traceIdleMillis: r.traceIdleMillis!,
    observationTimeoutMillis: r.observationTimeoutMillis!,
    captureContent: r.captureContent!,
    estimateCost: r.estimateCost!,
    dataDir: r.dataDir!,
    store: r.store!,
    spoolMaxBytes: r.spoolMaxBytes!,
    memoryLimitBytes: memoryLimitBytes(r.memoryLimitMib, host),
    maxBodyBytes: r.maxBodyBytes!,
    maxEventsPerRequest: r.maxEventsPerRequest!,
    maxErrorsPerResponse: r.maxErrorsPerResponse!,
    maxConnections: r.maxConnections!,
    storeOnCorrupt: r.storeOnCorrupt!,
    storeReserveBytes: r.storeReserveBytes!,
    shutdownTimeoutMillis: r.shutdownTimeoutMillis!,
    tombstoneRetentionMillis: r.tombstoneRetentionMillis!,
    exportBatchSize: r.exportBatchSize!,
    exportLingerMillis: r.exportLingerMillis!,
    exportFailureSummaryMillis: r.exportFailureSummaryMillis!,
    heapGrowingPercent: r.heapGrowingPercent!,
    logLevel: r.logLevel!,
    tenancy,
    ...(r.serviceName ? { serviceName: r.serviceName } : {}),
    resourceAttributes,
    ...limits,
    otlp,
    destinations,
    ...(kafka ? { kafka } : {}),
    metrics,
    warnings,
  };
}

/** The variables that are set (an empty value counts as unset, as for every setting). */
function definedOnly(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * The URL of one signal from OTEL_EXPORTER_OTLP_ENDPOINT (undefined: not set). OTLP/HTTP appends
 * `/v1/<signal>` to it (default `http://localhost:4318`); OTLP/gRPC uses it as is (default
 * `http://localhost:4317`), as the OTLP exporter specification says.
 */
function signalUrl(endpoint: string | undefined, protocol: 'http/protobuf' | 'http/json' | 'grpc', signal: 'traces' | 'metrics'): string {
  if (protocol === 'grpc') return endpoint ?? 'http://localhost:4317';
  return `${(endpoint ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/${signal}`;
}

/** `k1=v1,k2=v2` with percent-encoded values (the OTel env format for headers and resource attributes). */
function parseKeyValueList(text: string, variable: string, issues: string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim() : '';
    if (!key) {
      issues.push(`${variable} is invalid: expected comma-separated key=value pairs (actual: '${part.trim()}')`);
      continue;
    }
    try {
      out[key] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      issues.push(`${variable} is invalid: expected percent-encoded values (actual: '${part.trim()}')`);
    }
  }
  return { ...out };
}
