// The OpenTelemetry SDK environment-variable specification's list (general, resource, exporter
// selection, samplers, batch processors, attribute and span limits, OTLP exporter, metric reader,
// Zipkin/Prometheus, logs), each with what the bridge does with it: read, refused at start, or not
// applicable and why. Data only: service-config.ts does the reading; the README's table of
// OpenTelemetry variables is rendered from this list and a test holds the three together.

export type OtelVariableStatus = 'read' | 'refused' | 'not applicable';

export interface OtelVariable {
  /** One setting, in its general and signal-specific forms. */
  names: readonly string[];
  status: OtelVariableStatus;
  /** The default as the bridge applies it (read), or the value refused (refused). */
  value?: string;
  /** What the bridge does with it, or why it does not apply. */
  what: string;
}

const otlp = (suffix: string, signals: readonly string[] = ['', 'TRACES_', 'METRICS_']) => signals.map((s) => `OTEL_EXPORTER_OTLP_${s}${suffix}`);
const LOGS = 'the bridge exports no logs';

export const OTEL_VARIABLES: readonly OtelVariable[] = [
  // General
  { names: ['OTEL_SDK_DISABLED'], status: 'refused', value: 'true', what: 'the bridge is an exporter; `false` is accepted. To export nothing stop it; to see spans set `OTEL_TRACES_EXPORTER=console`' },
  { names: ['OTEL_SERVICE_NAME'], status: 'read', what: '`service.name` of every span and metric (wins over the sender\'s); empty is unset, only blanks is refused at start' },
  { names: ['OTEL_RESOURCE_ATTRIBUTES'], status: 'read', what: 'resource attributes of every span and metric, `key=value,…` percent-encoded; the sender\'s own win' },
  { names: ['OTEL_ENTITIES'], status: 'not applicable', what: 'resource entities are in development; the resource comes from `OTEL_RESOURCE_ATTRIBUTES` and the sender' },
  { names: ['OTEL_LOG_LEVEL'], status: 'not applicable', what: 'the bridge logs with `BRIDGE_LOG_LEVEL`; export outcomes are its own log lines, not SDK diagnostics' },
  { names: ['OTEL_PROPAGATORS'], status: 'not applicable', what: 'the bridge propagates no context: trace and span ids come from the clients\' data' },
  { names: ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'], status: 'not applicable', what: 'the bridge samples nothing: every span a client was told was stored is exported (sample in the client or in a Collector)' },
  { names: ['OTEL_CONFIG_FILE'], status: 'refused', value: 'any', what: 'declarative configuration files are not supported; destinations go in a `BRIDGE_CONFIG` file' },
  // Exporter selection
  { names: ['OTEL_TRACES_EXPORTER'], status: 'read', value: 'otlp', what: '`otlp`, `console` (a tree on stdout), both, or `none` (with a Langfuse destination); `zipkin` is refused' },
  { names: ['OTEL_METRICS_EXPORTER'], status: 'read', value: 'otlp', what: 'the GenAI metrics: `otlp`, `console`, both, or `none`; `prometheus` is refused (the bridge\'s own `/metrics` serves Prometheus)' },
  { names: ['OTEL_LOGS_EXPORTER'], status: 'not applicable', what: LOGS },
  // Batch span processor
  {
    names: ['OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
    status: 'not applicable',
    what: 'the durable export queue batches instead: `BRIDGE_EXPORT_BATCH_SIZE`, `BRIDGE_EXPORT_LINGER_MS`, `OTEL_EXPORTER_OTLP_TIMEOUT`; its size is the disk budget `BRIDGE_SPOOL_MAX_BYTES`',
  },
  // Attribute and span limits
  { names: ['OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'], status: 'read', what: 'longest string attribute value (characters), unless `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` is set; unset: no limit' },
  { names: ['OTEL_ATTRIBUTE_COUNT_LIMIT'], status: 'read', what: 'most attributes per span, unless `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT` is set; unset: no limit (the SDKs\' 128 would cut OpenInference\'s flattened messages)' },
  { names: ['OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT'], status: 'read', what: 'longest string attribute value on a span (characters, also inside string arrays)' },
  { names: ['OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT'], status: 'read', what: 'most attributes on a span; the cut keeps semantic-convention names (`gen_ai.*`, `error.type`, `user.id`, `session.id`, …) first, then `langfuse.*`, then metadata (`*.metadata.*`), each in the mapping\'s order; the cut ones are counted in `dropped_attributes_count`' },
  {
    names: ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'OTEL_SPAN_LINK_COUNT_LIMIT', 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT'],
    status: 'read',
    what: 'checked (a whole number); exported spans carry no events or links, so nothing is cut',
  },
  { names: ['OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT'], status: 'not applicable', what: LOGS },
  // OTLP exporter
  { names: otlp('ENDPOINT'), status: 'read', value: 'http://localhost:4318 (grpc: :4317)', what: 'the general one gets `/v1/traces` / `/v1/metrics` over HTTP and is used as is over gRPC; the signal ones are used as is' },
  { names: otlp('PROTOCOL'), status: 'read', value: 'http/protobuf', what: '`http/protobuf`, `http/json` or `grpc`' },
  { names: otlp('HEADERS'), status: 'read', what: '`key=value,…` percent-encoded; gRPC metadata over gRPC' },
  { names: otlp('COMPRESSION'), status: 'read', value: 'none', what: '`gzip` or `none`' },
  { names: otlp('TIMEOUT'), status: 'read', value: '10000', what: 'milliseconds per export attempt, 1 to 2147483647 (a Node timer\'s maximum; more is refused at start); metrics: at most `OTEL_METRIC_EXPORT_TIMEOUT`' },
  { names: otlp('CERTIFICATE'), status: 'read', what: 'PEM CA bundle the server\'s certificate must chain to (replaces the platform\'s CAs); read and checked at start' },
  { names: otlp('CLIENT_CERTIFICATE'), status: 'read', what: 'PEM client certificate (mTLS), with its key; read and checked at start' },
  { names: otlp('CLIENT_KEY'), status: 'read', what: 'PEM private key of the client certificate; a key of another certificate stops the start' },
  { names: otlp('INSECURE'), status: 'not applicable', what: 'endpoints carry `http://` or `https://`, which decides plaintext or TLS (the specification applies it only to gRPC endpoints without a scheme)' },
  { names: ['OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE'], status: 'read', value: 'cumulative', what: '`cumulative`, `delta` or `lowmemory`' },
  { names: ['OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION'], status: 'refused', value: 'base2_exponential_bucket_histogram', what: 'the GenAI histograms keep the semantic conventions\' explicit buckets; `explicit_bucket_histogram` is accepted' },
  { names: otlp('', ['LOGS_']).flatMap((base) => ['ENDPOINT', 'PROTOCOL', 'HEADERS', 'COMPRESSION', 'TIMEOUT', 'CERTIFICATE', 'CLIENT_CERTIFICATE', 'CLIENT_KEY', 'INSECURE'].map((s) => `${base}${s}`)), status: 'not applicable', what: LOGS },
  // Metrics SDK and periodic reader
  { names: ['OTEL_METRIC_EXPORT_INTERVAL'], status: 'read', value: '60000', what: 'milliseconds between metric exports, 100 to 2147483647 (a Node timer\'s maximum; more is refused at start)' },
  { names: ['OTEL_METRIC_EXPORT_TIMEOUT'], status: 'read', value: '30000', what: 'milliseconds for one collect-and-export, 1 to 2147483647 (a Node timer\'s maximum; more is refused at start); above the interval it is lowered to it, with one warning at start' },
  { names: ['OTEL_METRICS_EXEMPLAR_FILTER'], status: 'not applicable', what: 'no exemplars: the metrics are recorded from exported spans, outside any span\'s context' },
  // Other exporters
  { names: ['OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'OTEL_EXPORTER_ZIPKIN_TIMEOUT'], status: 'not applicable', what: 'no Zipkin exporter (`OTEL_TRACES_EXPORTER=zipkin` is refused); Zipkin takes OTLP through a Collector' },
  { names: ['OTEL_EXPORTER_PROMETHEUS_HOST', 'OTEL_EXPORTER_PROMETHEUS_PORT'], status: 'not applicable', what: 'the bridge\'s own metrics are on `GET /metrics` of `BRIDGE_HOST`:`BRIDGE_PORT`' },
  // Batch log record processor
  { names: ['OTEL_BLRP_SCHEDULE_DELAY', 'OTEL_BLRP_EXPORT_TIMEOUT', 'OTEL_BLRP_MAX_QUEUE_SIZE', 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'], status: 'not applicable', what: LOGS },
];

/** The README's table (between its `otel-variables` markers). */
export function renderOtelVariablesTable(variables: readonly OtelVariable[] = OTEL_VARIABLES): string {
  const rows = variables.map((v) => {
    const names = v.names.map((n) => `\`${n}\``).join(', ');
    const status = v.status === 'refused' ? (v.value === 'any' ? 'refused (any value)' : `refused: \`${v.value}\``) : v.status === 'read' && v.value !== undefined ? `read (default \`${v.value}\`)` : v.status;
    return `| ${names} | ${status} | ${v.what} |`;
  });
  return ['| variable | the bridge | what it does / why not |', '|---|---|---|', ...rows].join('\n');
}
