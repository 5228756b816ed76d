// Where spans go: the resolved list of destinations, from the BRIDGE_CONFIG file or, without one,
// from the environment (OTEL_EXPORTER_OTLP_*, OTEL_TRACES_EXPORTER, BRIDGE_LANGFUSE_*). Owns the
// destinations file's schema (with its `tenants:` list, whose entries tenants-config.ts checks) and
// its `${env:NAME}` substitution; `${tenant}` is left in header values for the export to fill in.
// Reads the file it is pointed at and nothing else: the environment comes in as a plain object,
// mappings are loaded by export/.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatYamlPath, formatZodIssues, parseYamlFile } from '../strict-yaml.js';
import { tenantFileShape, toTenantConfigs, type TenantConfig } from './tenants-config.js';
import { readTlsMaterial, type TlsMaterial } from './tls-config.js';

export type DestinationType = 'otlp' | 'langfuse' | 'console';
export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

interface DestinationCommon {
  /** Unique; the `destination` label of the export metrics. */
  name: string;
  /** A mapping preset name or a mapping file path. */
  mapping: string;
  captureContent: boolean;
  attributeValueLengthLimit?: number;
  /** Only these tenants' spans go here (names from the file's `tenants:` list); all when absent. */
  tenants?: string[];
  /** Most attributes per span (OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT); the rest are counted as dropped. */
  attributeCountLimit?: number;
}

interface HttpTransport {
  /**
   * What to set when nothing answers at `url`, said once per outage in the log: names the
   * setting this destination came from (the environment, or its entry in BRIDGE_CONFIG).
   */
  unreachableHint?: string;
  /** The full traces URL, used as is. */
  url: string;
  protocol: OtlpProtocol;
  /** Values may name the tenant as `${tenant}` (file tenants only): the export then sends one request per tenant. */
  headers: Record<string, string>;
  timeoutMillis: number;
  compression: 'gzip' | 'none';
  /** CA bundle, client certificate and key, read at start; absent: the platform's defaults. */
  tls?: TlsMaterial;
}

export interface OtlpDestinationConfig extends DestinationCommon, HttpTransport {
  type: 'otlp';
}

export interface LangfuseDestinationConfig extends DestinationCommon, HttpTransport {
  type: 'langfuse';
  /** Langfuse's OTLP endpoint takes OTLP/HTTP only. */
  protocol: Exclude<OtlpProtocol, 'grpc'>;
  /** The Langfuse host, e.g. `https://cloud.langfuse.com`; `url` is `<baseUrl>/api/public/otel/v1/traces`. */
  baseUrl: string;
  /** `<baseUrl>/api/public/scores`. */
  scoresUrl: string;
  /** Empty with `credentials: 'tenant'`. */
  publicKey: string;
  secretKey: string;
  /** `tenant`: each tenant's spans and scores are sent with that tenant's own key pair. */
  credentials?: 'tenant';
}

export interface ConsoleDestinationConfig extends DestinationCommon {
  type: 'console';
}

export type DestinationConfig = OtlpDestinationConfig | LangfuseDestinationConfig | ConsoleDestinationConfig;

/** What `${tenant}` in a header value stands for. */
export const TENANT_PLACEHOLDER = '${tenant}';

/** The BRIDGE_CONFIG file's tenants (issue 18), when it has a `tenants:` list or a `tenant_attribute`. */
export interface FileTenants {
  path: string;
  tenants?: TenantConfig[];
  attribute?: string;
}

export interface ResolvedDestinations {
  destinations: DestinationConfig[];
  /** Absent without a file. */
  file?: FileTenants;
}

/** The preset a `langfuse` destination uses unless it names another mapping. */
export const LANGFUSE_DEFAULT_MAPPING = 'langfuse';

export const protocolSchema = z.enum(['http/protobuf', 'http/json', 'grpc'], 'http/protobuf, http/json or grpc');

export const httpUrlSchema = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}, 'an http(s) URL');

/** What the environment says about destinations; the service-level settings they default to. */
export interface DestinationInputs {
  /** BRIDGE_CONFIG: path of the destinations file (relative to `cwd`). */
  configFile?: string;
  /** OTEL_TRACES_EXPORTER, as given. */
  tracesExporter?: string;
  /** Whether OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. */
  otlpEndpointGiven: boolean;
  /** The OTLP destination OTEL_EXPORTER_OTLP_* describe (today's single destination). */
  otlp: HttpTransport;
  langfuse: { host?: string; publicKey?: string; secretKey?: string };
  /** BRIDGE_MAPPING, BRIDGE_CAPTURE_CONTENT, OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT. */
  defaults: { mapping: string; captureContent: boolean; attributeValueLengthLimit?: number; attributeCountLimit?: number };
  /** `${env:NAME}` values in the file. */
  env: Record<string, string | undefined>;
  cwd: string;
}

const LANGFUSE_ENV = ['BRIDGE_LANGFUSE_HOST', 'BRIDGE_LANGFUSE_PUBLIC_KEY', 'BRIDGE_LANGFUSE_SECRET_KEY'] as const;
const DEFAULT_TIMEOUT_MILLIS = 10_000;

/** Other sections of the destinations file, for the settings they belong to. */
export interface FileSections {
  /** The `kafka:` section as BRIDGE_KAFKA_* variables (the environment's win). */
  kafkaEnv?: Record<string, string>;
}

/**
 * Resolves the destinations (and the file's tenants); every problem goes to `issues` (nothing is
 * thrown). `sections` receives the file's other sections.
 */
export function resolveDestinations(inputs: DestinationInputs, issues: string[], sections: FileSections = {}): ResolvedDestinations {
  const langfuseGiven = [inputs.langfuse.host, inputs.langfuse.publicKey, inputs.langfuse.secretKey].some((v) => v !== undefined);
  if (inputs.configFile !== undefined) {
    if (langfuseGiven) {
      issues.push(`${LANGFUSE_ENV.join(', ')} cannot be combined with BRIDGE_CONFIG (actual: both are set): declare the langfuse destination in ${inputs.configFile}`);
    }
    return readDestinationsFile(path.resolve(inputs.cwd, inputs.configFile), inputs, issues, sections);
  }
  return { destinations: destinationsFromEnv(inputs, langfuseGiven, issues) };
}

function destinationsFromEnv(inputs: DestinationInputs, langfuseGiven: boolean, issues: string[]): DestinationConfig[] {
  const { defaults } = inputs;
  const common = (name: string, mapping = defaults.mapping): DestinationCommon => ({
    name,
    mapping,
    captureContent: defaults.captureContent,
    ...(defaults.attributeValueLengthLimit !== undefined ? { attributeValueLengthLimit: defaults.attributeValueLengthLimit } : {}),
    ...(defaults.attributeCountLimit !== undefined ? { attributeCountLimit: defaults.attributeCountLimit } : {}),
  });
  const destinations: DestinationConfig[] = [];
  for (const exporter of tracesExporters(inputs, langfuseGiven, issues)) {
    if (exporter === 'otlp') {
      destinations.push({
        type: 'otlp',
        ...common('otlp'),
        ...inputs.otlp,
        unreachableHint: `Nothing answers at ${inputs.otlp.url}: set OTEL_EXPORTER_OTLP_ENDPOINT to your OTLP/HTTP backend (for example http://collector:4318), declare destinations in a BRIDGE_CONFIG file, or set OTEL_TRACES_EXPORTER=console to print the spans in this terminal`,
      });
    }
    if (exporter === 'console') destinations.push({ type: 'console', ...common('console') });
  }
  if (langfuseGiven) {
    const { host, publicKey, secretKey } = inputs.langfuse;
    if (host === undefined || publicKey === undefined || secretKey === undefined) {
      const missing = LANGFUSE_ENV.filter((_, i) => [host, publicKey, secretKey][i] === undefined);
      issues.push(`${LANGFUSE_ENV.join(', ')} must be set together (actual: ${missing.join(', ')} not set)`);
    } else {
      destinations.push(
        langfuseDestination(common('langfuse', LANGFUSE_DEFAULT_MAPPING), host, publicKey, secretKey, {
          unreachableHint: `Nothing answers at ${host}: check BRIDGE_LANGFUSE_HOST`,
          protocol: 'http/protobuf',
          headers: {},
          timeoutMillis: inputs.otlp.timeoutMillis,
          compression: 'none',
        }),
      );
    }
  }
  if (destinations.length === 0 && issues.length === 0) {
    issues.push(`OTEL_TRACES_EXPORTER leaves no destination (actual: '${inputs.tracesExporter}'): set it to otlp or console, or set BRIDGE_LANGFUSE_HOST or BRIDGE_CONFIG`);
  }
  return destinations;
}

/**
 * OTEL_TRACES_EXPORTER is a comma-separated list of `otlp`, `console`, `none` (the OTel spec).
 * Unset, it is `otlp`, except when only a Langfuse destination is configured: an OTLP exporter
 * nobody asked for would retry against localhost:4318 forever and hold the spool.
 */
function tracesExporters(inputs: DestinationInputs, langfuseGiven: boolean, issues: string[]): Array<'otlp' | 'console'> {
  const given = inputs.tracesExporter;
  if (given === undefined) return langfuseGiven && !inputs.otlpEndpointGiven ? [] : ['otlp'];
  const names = given.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  const bad = names.filter((n) => n !== 'otlp' && n !== 'console' && n !== 'none');
  if (bad.length > 0 || (names.includes('none') && names.length > 1)) {
    issues.push(`OTEL_TRACES_EXPORTER is invalid: expected a comma-separated list of otlp and console, or none (actual: '${given}')`);
    return [];
  }
  return [...new Set(names.filter((n): n is 'otlp' | 'console' => n !== 'none'))];
}

function langfuseDestination(
  common: DestinationCommon,
  host: string,
  publicKey: string,
  secretKey: string,
  transport: Omit<HttpTransport, 'url'> & { protocol: LangfuseDestinationConfig['protocol'] },
): LangfuseDestinationConfig {
  const baseUrl = host.replace(/\/+$/, '');
  return {
    type: 'langfuse',
    ...common,
    ...transport,
    baseUrl,
    url: `${baseUrl}/api/public/otel/v1/traces`,
    scoresUrl: `${baseUrl}/api/public/scores`,
    publicKey,
    secretKey,
  };
}

// ---- the destinations file ----

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const DURATION = /^([1-9]\d*)(ms|s|m)?$/;
const DURATION_WORDS = 'a duration such as 10s, 500ms or a number of milliseconds';
/** The longest delay a Node timer holds; above it the timer fires after 1 ms. */
export const MAX_TIMER_MILLIS = 2_147_483_647;
const durationSchema = z
  .union([z.number(DURATION_WORDS).int(DURATION_WORDS).positive(DURATION_WORDS), z.string().regex(DURATION, DURATION_WORDS)], DURATION_WORDS)
  // zod runs the check after a failed union too: only a well-formed duration is measured.
  .refine((duration) => (typeof duration === 'string' && !DURATION.test(duration)) || toMillis(duration) <= MAX_TIMER_MILLIS, `a duration of at most ${MAX_TIMER_MILLIS} ms (about 24 days)`);

/** Booleans and whole numbers, also as the text `${env:…}` substitution produces. */
const booleanSchema = z.union([z.boolean(), z.enum(['true', 'false'], 'true or false').transform((s) => s === 'true')], 'true or false');
const POSITIVE_INT_WORDS = 'a whole number of at least 1';
const positiveIntSchema = z.union(
  [z.number().int(POSITIVE_INT_WORDS).min(1, POSITIVE_INT_WORDS), z.string().regex(/^[1-9]\d*$/, POSITIVE_INT_WORDS).transform(Number)],
  POSITIVE_INT_WORDS,
);

const commonShape = {
  name: z.string().regex(/^[A-Za-z0-9][\w.-]{0,62}$/, 'a name of letters, digits, ".", "_" and "-" (at most 63)'),
  mapping: z.string().min(1, 'a preset name or a file path').optional(),
  tenants: z.array(z.string('a tenant name'), 'a list of tenant names').min(1, 'at least one tenant name').optional(),
  capture_content: booleanSchema.optional(),
  attribute_value_length_limit: positiveIntSchema.optional(),
  attribute_count_limit: positiveIntSchema.optional(),
};

const transportShape = {
  protocol: protocolSchema.optional(),
  headers: z.record(z.string().regex(HEADER_NAME, 'an HTTP header name'), z.string('a string (quote numbers)')).optional(),
  compression: z.enum(['gzip', 'none'], 'gzip or none').optional(),
  timeout: durationSchema.optional(),
  /** The Collector's TLS names; paths are relative to the destinations file. */
  tls: z
    .strictObject({
      ca_file: z.string('a file path').min(1, 'a file path').optional(),
      cert_file: z.string('a file path').min(1, 'a file path').optional(),
      key_file: z.string('a file path').min(1, 'a file path').optional(),
      insecure_skip_verify: booleanSchema.optional(),
    })
    .optional(),
};

const otlpSchema = z.strictObject({
  type: z.literal('otlp'),
  ...commonShape,
  ...transportShape,
  /** Base URL; `/v1/traces` is appended. */
  endpoint: httpUrlSchema.optional(),
  /** Full traces URL, used as is. */
  traces_endpoint: httpUrlSchema.optional(),
});

const langfuseSchema = z.strictObject({
  type: z.literal('langfuse'),
  ...commonShape,
  ...transportShape,
  /** The Langfuse host; the OTLP and scores paths are appended. */
  endpoint: httpUrlSchema,
  public_key: z.string('a Langfuse public key (pk-lf-…)').min(1, 'a Langfuse public key (pk-lf-…)').optional(),
  secret_key: z.string('a Langfuse secret key (sk-lf-…)').min(1, 'a Langfuse secret key (sk-lf-…)').optional(),
  /** `tenant`: each tenant's own key pair, instead of public_key and secret_key. */
  credentials: z.literal('tenant', 'tenant (each tenant\'s own key pair)').optional(),
});

const consoleSchema = z.strictObject({ type: z.literal('console'), ...commonShape });

/**
 * The file's `kafka:` section (gateway mode): the BRIDGE_KAFKA_* settings by other names. Checked
 * for shape here (errors name the file and path); resolved with the environment's, which win.
 */
const kafkaSchema = z.strictObject({
  brokers: z.union([z.string().min(1, 'host:port'), z.array(z.string().min(1, 'host:port'), 'a list of host:port').min(1, 'at least one broker')], 'host:port or a list of them'),
  topic: z.string('a topic name').optional(),
  group: z.string('a consumer group name').optional(),
  client_id: z.string('a client id').optional(),
  partitions: positiveIntSchema.optional(),
  replication_factor: z.union([z.number().int(), z.string().regex(/^-?\d+$/).transform(Number)], 'a whole number (-1: the broker default)').optional(),
  produce_timeout: durationSchema.optional(),
  max_queued_spans: positiveIntSchema.optional(),
  max_markers: positiveIntSchema.optional(),
  tls: z.strictObject({ enabled: booleanSchema.optional(), ca_file: z.string('a PEM file path').optional(), insecure: booleanSchema.optional() }).optional(),
  sasl: z
    .strictObject({
      mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], 'plain, scram-sha-256 or scram-sha-512'),
      username: z.string('a user name').min(1, 'a user name'),
      password: z.string('a password').min(1, 'a password'),
    })
    .optional(),
});

/** The `kafka:` section as the BRIDGE_KAFKA_* variables it stands for (a CA file relative to the file). */
function kafkaSectionAsEnv(kafka: z.output<typeof kafkaSchema>, file: string): Record<string, string> {
  const env: Record<string, string> = { BRIDGE_KAFKA_BROKERS: Array.isArray(kafka.brokers) ? kafka.brokers.join(',') : kafka.brokers };
  const set = (name: string, value: string | number | boolean | undefined) => {
    if (value !== undefined) env[name] = String(value);
  };
  set('BRIDGE_KAFKA_TOPIC', kafka.topic);
  set('BRIDGE_KAFKA_GROUP', kafka.group);
  set('BRIDGE_KAFKA_CLIENT_ID', kafka.client_id);
  set('BRIDGE_KAFKA_PARTITIONS', kafka.partitions);
  set('BRIDGE_KAFKA_REPLICATION_FACTOR', kafka.replication_factor);
  set('BRIDGE_KAFKA_PRODUCE_TIMEOUT_MS', kafka.produce_timeout === undefined ? undefined : toMillis(kafka.produce_timeout));
  set('BRIDGE_KAFKA_MAX_QUEUED_SPANS', kafka.max_queued_spans);
  set('BRIDGE_KAFKA_MAX_MARKERS', kafka.max_markers);
  set('BRIDGE_KAFKA_TLS', kafka.tls?.enabled ?? (kafka.tls ? true : undefined));
  set('BRIDGE_KAFKA_TLS_CA_FILE', kafka.tls?.ca_file === undefined ? undefined : path.resolve(path.dirname(file), kafka.tls.ca_file));
  set('BRIDGE_KAFKA_TLS_INSECURE', kafka.tls?.insecure);
  set('BRIDGE_KAFKA_SASL_MECHANISM', kafka.sasl?.mechanism);
  set('BRIDGE_KAFKA_SASL_USERNAME', kafka.sasl?.username);
  set('BRIDGE_KAFKA_SASL_PASSWORD', kafka.sasl?.password);
  return env;
}

const fileSchema = z.strictObject({
  ...tenantFileShape,
  kafka: kafkaSchema.optional(),
  destinations: z
    .array(z.discriminatedUnion('type', [otlpSchema, langfuseSchema, consoleSchema]), 'a list of destinations')
    .min(1, 'at least one destination'),
});

type FileDestination = z.output<typeof fileSchema>['destinations'][number];

function readDestinationsFile(file: string, inputs: DestinationInputs, issues: string[], sections: FileSections): ResolvedDestinations {
  const none: ResolvedDestinations = { destinations: [], file: { path: file } };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    issues.push(`BRIDGE_CONFIG is invalid: expected a readable file (actual: '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    return none;
  }
  const yaml = parseYamlFile(file, text);
  if (!yaml.ok) {
    issues.push(...yaml.issues);
    return none;
  }
  const substitutionIssues: string[] = [];
  const badPaths = new Set<string>();
  const substituted = substituteEnv(yaml.value, inputs.env, [], (at, what) => {
    badPaths.add(formatYamlPath(at));
    substitutionIssues.push(`${file}: ${formatYamlPath(at)}: ${what}`);
  });
  const parsed = fileSchema.safeParse(substituted);
  issues.push(...substitutionIssues);
  if (!parsed.success) {
    // A value whose substitution failed is reported once, for that.
    const schemaIssues = parsed.error.issues.filter((issue) => !badPaths.has(formatYamlPath(issue.path)));
    issues.push(...formatZodIssues(file, schemaIssues, 'a destination whose type is otlp, langfuse or console'));
    return none;
  }
  if (substitutionIssues.length > 0) return none;
  if (parsed.data.kafka) sections.kafkaEnv = kafkaSectionAsEnv(parsed.data.kafka, file);
  const before = issues.length;
  const tenants = parsed.data.tenants ? toTenantConfigs(file, parsed.data.tenants, issues) : undefined;
  const tenantNames = new Set((tenants ?? []).map((t) => t.name));
  const seen = new Map<string, number>();
  const destinations = parsed.data.destinations.map((d, i) => {
    const at = (key: string) => `${file}: destinations[${i}].${key}`;
    const first = seen.get(d.name);
    if (first !== undefined) issues.push(`${at('name')}: expected a unique name ('${d.name}' is also destinations[${first}].name)`);
    else seen.set(d.name, i);
    const issue = (key: string, what: string) => issues.push(`${at(key)}: ${what}`);
    checkTenantUse(d, tenants !== undefined, tenantNames, issue);
    return toDestinationConfig(d, file, inputs, issue);
  });
  const fileTenants: FileTenants = {
    path: file,
    ...(tenants ? { tenants } : {}),
    ...(parsed.data.tenant_attribute !== undefined ? { attribute: parsed.data.tenant_attribute } : {}),
  };
  return issues.length > before ? { destinations: [], file: fileTenants } : { destinations, file: fileTenants };
}

/** A destination may name tenants (a filter, `${tenant}` in headers, tenant credentials) only from the file's list. */
function checkTenantUse(d: FileDestination, haveTenants: boolean, names: ReadonlySet<string>, issue: (key: string, what: string) => void): void {
  const without = 'a tenants: list in the file (actual: no tenants are declared)';
  d.tenants?.forEach((name, j) => {
    if (!haveTenants) issue(`tenants[${j}]`, `expected ${without}`);
    else if (!names.has(name)) issue(`tenants[${j}]`, `expected the name of a tenant in tenants: (actual: '${name}')`);
  });
  if (d.type === 'console' || haveTenants) return;
  for (const [header, value] of Object.entries(d.headers ?? {})) {
    if (value.includes(TENANT_PLACEHOLDER)) issue(`headers.${header}`, `\${tenant} needs ${without}`);
  }
  if (d.type === 'langfuse' && d.credentials === 'tenant') issue('credentials', `tenant needs ${without}`);
}

/** A mapping file named in the destinations file is relative to it; a preset name stays a name. */
function mappingBesideFile(mapping: string, file: string): string {
  return /^[\w-]+$/.test(mapping) ? mapping : path.resolve(path.dirname(file), mapping);
}

function toDestinationConfig(d: FileDestination, file: string, inputs: DestinationInputs, issue: (key: string, what: string) => void): DestinationConfig {
  const { defaults } = inputs;
  const limit = d.attribute_value_length_limit ?? defaults.attributeValueLengthLimit;
  const countLimit = d.attribute_count_limit ?? defaults.attributeCountLimit;
  const common: DestinationCommon = {
    name: d.name,
    mapping: d.mapping === undefined ? (d.type === 'langfuse' ? LANGFUSE_DEFAULT_MAPPING : defaults.mapping) : mappingBesideFile(d.mapping, file),
    captureContent: d.capture_content ?? defaults.captureContent,
    ...(limit !== undefined ? { attributeValueLengthLimit: limit } : {}),
    ...(d.tenants !== undefined ? { tenants: [...new Set(d.tenants)] } : {}),
    ...(countLimit !== undefined ? { attributeCountLimit: countLimit } : {}),
  };
  if (d.type === 'console') return { type: 'console', ...common };
  const where = d.type === 'langfuse' || d.endpoint !== undefined ? d.endpoint : d.traces_endpoint;
  const tls = d.tls === undefined ? undefined : tlsOfFile(d.tls, file, issue);
  const transport = {
    unreachableHint: `Nothing answers at ${String(where)}: check the endpoint of destination '${d.name}' in ${file}`,
    protocol: d.protocol ?? 'http/protobuf',
    headers: { ...d.headers },
    timeoutMillis: d.timeout === undefined ? DEFAULT_TIMEOUT_MILLIS : toMillis(d.timeout),
    compression: d.compression ?? 'none',
    ...(tls ? { tls } : {}),
  } as const;
  if (d.type === 'langfuse') {
    const authorization = Object.keys(transport.headers).find((h) => h.toLowerCase() === 'authorization');
    if (authorization) issue(`headers.${authorization}`, 'unknown key: a langfuse destination authenticates with public_key and secret_key');
    const { protocol } = transport;
    if (protocol === 'grpc') issue('protocol', "expected http/protobuf or http/json: Langfuse's OTLP endpoint takes OTLP/HTTP only (actual: 'grpc')");
    const httpTransport = { ...transport, protocol: protocol === 'grpc' ? ('http/protobuf' as const) : protocol };
    if (d.credentials === 'tenant') {
      if (d.public_key !== undefined || d.secret_key !== undefined) issue('credentials', 'expected either credentials: tenant or public_key and secret_key (actual: both)');
      return { ...langfuseDestination(common, d.endpoint, '', '', httpTransport), credentials: 'tenant' };
    }
    if (d.public_key === undefined) issue('public_key', 'expected a Langfuse public key (pk-lf-…), or credentials: tenant');
    if (d.secret_key === undefined) issue('secret_key', 'expected a Langfuse secret key (sk-lf-…), or credentials: tenant');
    return langfuseDestination(common, d.endpoint, d.public_key ?? '', d.secret_key ?? '', httpTransport);
  }
  if ((d.endpoint === undefined) === (d.traces_endpoint === undefined)) {
    issue('endpoint', `expected exactly one of endpoint (a base URL, /v1/traces is appended) and traces_endpoint (the full URL) (actual: ${d.endpoint === undefined ? 'neither' : 'both'})`);
  }
  // OTLP/HTTP spec: a signal-specific endpoint is used as is; the base one gets /v1/traces appended.
  // OTLP/gRPC has no path: the endpoint is the server.
  const url = d.traces_endpoint ?? (transport.protocol === 'grpc' ? String(d.endpoint) : `${String(d.endpoint).replace(/\/+$/, '')}/v1/traces`);
  return { type: 'otlp', ...common, ...transport, url };
}

/** A destination's `tls:` block, its files read now (relative to the destinations file). */
function tlsOfFile(
  tls: NonNullable<Extract<FileDestination, { type: 'otlp' }>['tls']>,
  file: string,
  issue: (key: string, what: string) => void,
): TlsMaterial | undefined {
  const beside = (p: string | undefined) => (p === undefined ? {} : { path: path.resolve(path.dirname(file), p) });
  const ca = beside(tls.ca_file);
  const cert = beside(tls.cert_file);
  const key = beside(tls.key_file);
  return readTlsMaterial(
    {
      ...(ca.path ? { caFile: ca.path } : {}),
      ...(cert.path ? { certFile: cert.path } : {}),
      ...(key.path ? { keyFile: key.path } : {}),
      ...(tls.insecure_skip_verify !== undefined ? { insecureSkipVerify: tls.insecure_skip_verify } : {}),
    },
    { ca: 'tls.ca_file', cert: 'tls.cert_file', key: 'tls.key_file' },
    issue,
  );
}

function toMillis(duration: number | string): number {
  if (typeof duration === 'number') return duration;
  const match = DURATION.exec(duration)!;
  const unit = match[2] ?? 'ms';
  return Number(match[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

const REFERENCE = /\$\$|\$\{([^}]*)\}/g;

/** `destinations[i].headers.<name>`. */
function isHeaderValue(at: readonly PropertyKey[]): boolean {
  return at.length === 4 && at[0] === 'destinations' && typeof at[1] === 'number' && at[2] === 'headers';
}
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * The Collector's substitution, in string values: `${env:NAME}`, `${env:NAME:-default}` (the
 * default when NAME is unset or empty), `$$` for a literal `$`. The result is a string; the
 * number and boolean settings also accept their text (`timeout: ${env:T}` with T=5000). Unlike the
 * Collector, an unset variable without a default is an error, not an empty string: a missing key
 * must fail at start, not as a 401 at the first export.
 */
function substituteEnv(
  value: unknown,
  env: Record<string, string | undefined>,
  at: PropertyKey[],
  issue: (at: PropertyKey[], what: string) => void,
): unknown {
  if (Array.isArray(value)) return value.map((item, i) => substituteEnv(item, env, [...at, i], issue));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...at, k], issue)]));
  }
  if (typeof value !== 'string' || !value.includes('$')) return value;
  const out = value.replace(REFERENCE, (token, inner: string | undefined) => {
    if (token === '$$') return '$';
    // `${tenant}` is the export's, in header values only (checked against the tenants list later).
    if (token === TENANT_PLACEHOLDER) {
      if (isHeaderValue(at)) return token;
      issue(at, `expected \${tenant} only in a destination's header values (write $\${tenant} for the literal text)`);
      return token;
    }
    const match = ENV_REFERENCE.exec(inner ?? '');
    if (!match) {
      issue(at, `expected \${env:NAME} or \${env:NAME:-default} (actual: '${token}'; write $$ for a literal $)`);
      return token;
    }
    const given = env[match[1]!];
    if (given !== undefined && given !== '') return given;
    if (match[2] !== undefined) return match[2];
    issue(at, `expected the environment variable ${match[1]} to be set (${token} has no default; write \${env:${match[1]}:-value} for one)`);
    return '';
  });
  return out;
}
