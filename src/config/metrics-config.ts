// How the GenAI metrics leave the bridge: OTEL_METRICS_EXPORTER (otlp, console, none), the periodic
// reader's interval and timeout (OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT) made consistent here, once,
// so the reader built from them at start can never refuse them, and the OTLP exporter's settings.
// Pure: values in, settings (plus issues and warnings) out; builds no reader itself.
import type { TlsMaterial } from './tls-config.js';

export type MetricsExporterName = 'otlp' | 'console';
export type MetricsTemporality = 'cumulative' | 'delta' | 'lowmemory';
export type MetricsProtocol = 'http/protobuf' | 'http/json' | 'grpc';

export interface MetricsConfig {
  /** False when OTEL_METRICS_EXPORTER=none or BRIDGE_METRICS=false: no reader is built. */
  enabled: boolean;
  /** The readers to build, one each; empty when not enabled. */
  exporters: MetricsExporterName[];
  /** OTLP: the full metrics URL (http) or the endpoint (grpc). */
  url: string;
  protocol: MetricsProtocol;
  headers: Record<string, string>;
  /** One OTLP export attempt (OTEL_EXPORTER_OTLP_METRICS_TIMEOUT), never above the reader's timeout. */
  timeoutMillis: number;
  compression: 'gzip' | 'none';
  exportIntervalMillis: number;
  /** The reader's deadline for one collect-and-export (OTEL_METRIC_EXPORT_TIMEOUT), never above the interval. */
  exportTimeoutMillis: number;
  temporality: MetricsTemporality;
  tls?: TlsMaterial;
}

export interface MetricsInputs extends Omit<MetricsConfig, 'enabled' | 'exporters'> {
  /** BRIDGE_METRICS. */
  bridgeMetrics: boolean;
  /** OTEL_METRICS_EXPORTER as given, or undefined. */
  exporter?: string;
}

/** OTEL_METRIC_EXPORT_TIMEOUT's default (the SDK specification's). */
export const DEFAULT_METRIC_EXPORT_TIMEOUT_MILLIS = 30_000;

/**
 * The metrics settings. An interval shorter than the reader's timeout lowers the timeout to the
 * interval with one warning (the SDK's reader refuses the pair otherwise, at error level, once per
 * reader); an OTLP attempt timeout above the reader's is lowered with it, in the same warning.
 */
export function resolveMetrics(inputs: MetricsInputs, issues: string[], warnings: string[]): MetricsConfig {
  const exporters = metricsExporters(inputs.exporter, issues);
  const enabled = inputs.bridgeMetrics && exporters.length > 0;
  let exportTimeoutMillis = inputs.exportTimeoutMillis;
  let timeoutMillis = inputs.timeoutMillis;
  if (enabled && inputs.exportIntervalMillis < exportTimeoutMillis) {
    exportTimeoutMillis = inputs.exportIntervalMillis;
    const attempt = timeoutMillis > exportTimeoutMillis ? ` and the OTLP metrics export timeout from ${timeoutMillis} ms` : '';
    warnings.push(
      `OTEL_METRIC_EXPORT_INTERVAL (${inputs.exportIntervalMillis} ms) is shorter than OTEL_METRIC_EXPORT_TIMEOUT (${inputs.exportTimeoutMillis} ms): ` +
        `the metrics export timeout is lowered to ${exportTimeoutMillis} ms${attempt}`,
    );
  }
  timeoutMillis = Math.min(timeoutMillis, exportTimeoutMillis);
  return {
    enabled,
    exporters: enabled ? exporters : [],
    url: inputs.url,
    protocol: inputs.protocol,
    headers: inputs.headers,
    timeoutMillis,
    compression: inputs.compression,
    exportIntervalMillis: inputs.exportIntervalMillis,
    exportTimeoutMillis,
    temporality: inputs.temporality,
    ...(inputs.tls ? { tls: inputs.tls } : {}),
  };
}

/** OTEL_METRICS_EXPORTER: a comma-separated list of otlp and console, or none; unset is otlp. */
function metricsExporters(given: string | undefined, issues: string[]): MetricsExporterName[] {
  if (given === undefined) return ['otlp'];
  const names = given.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.includes('prometheus')) {
    issues.push(
      `OTEL_METRICS_EXPORTER is invalid: expected otlp, console or none (actual: '${given}'; prometheus is refused: the bridge's own /metrics serves Prometheus, the GenAI metrics go over OTLP)`,
    );
    return [];
  }
  const bad = names.filter((n) => n !== 'otlp' && n !== 'console' && n !== 'none');
  if (bad.length > 0 || names.length === 0 || (names.includes('none') && names.length > 1)) {
    issues.push(`OTEL_METRICS_EXPORTER is invalid: expected a comma-separated list of otlp and console, or none (actual: '${given}')`);
    return [];
  }
  return [...new Set(names.filter((n): n is MetricsExporterName => n !== 'none'))];
}
