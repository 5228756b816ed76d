// The metrics settings: OTEL_METRICS_EXPORTER, and an interval/timeout pair the SDK's reader can
// never refuse (a short interval lowers the timeouts, with one warning).
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { createGenAiMetricsRecorder } from '../../../src/export/genai-metrics.js';
import { configIssuesOf } from '../../helpers/config-issues.js';

describe('metrics export settings', () => {
  it('defaults: every 60 s, the reader waits up to 30 s, an OTLP attempt 10 s; no warning', () => {
    const config = loadServiceConfig({});
    expect(config.metrics).toMatchObject({ enabled: true, exporters: ['otlp'], exportIntervalMillis: 60_000, exportTimeoutMillis: 30_000, timeoutMillis: 10_000, temporality: 'cumulative', compression: 'none' });
    expect(config.warnings).toEqual([]);
  });

  it.each(['2000', '5000'])('an interval of %s ms lowers both timeouts to it, with one warning, and the reader accepts the pair', (interval) => {
    const config = loadServiceConfig({ OTEL_METRIC_EXPORT_INTERVAL: interval });
    const millis = Number(interval);
    expect(config.metrics).toMatchObject({ exportIntervalMillis: millis, exportTimeoutMillis: millis, timeoutMillis: millis });
    expect(config.warnings).toEqual([
      `OTEL_METRIC_EXPORT_INTERVAL (${millis} ms) is shorter than OTEL_METRIC_EXPORT_TIMEOUT (30000 ms): the metrics export timeout is lowered to ${millis} ms and the OTLP metrics export timeout from 10000 ms`,
    ]);
    const recorder = createGenAiMetricsRecorder({ ...config.metrics, resourceAttributes: {}, bridgeVersion: 'test' });
    return recorder.shutdown();
  });

  it('reads OTEL_METRIC_EXPORT_TIMEOUT, and an OTLP attempt never outlasts it', () => {
    const config = loadServiceConfig({ OTEL_METRIC_EXPORT_INTERVAL: '10000', OTEL_METRIC_EXPORT_TIMEOUT: '4000', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '8000' });
    expect(config.metrics).toMatchObject({ exportIntervalMillis: 10_000, exportTimeoutMillis: 4000, timeoutMillis: 4000 });
    expect(config.warnings).toEqual([]);
  });

  it('a recorder refuses a timeout above the interval when it is built (at start), never later', () => {
    expect(() => createGenAiMetricsRecorder({ url: 'http://127.0.0.1:1/v1/metrics', protocol: 'http/protobuf', timeoutMillis: 1000, exportIntervalMillis: 1000, exportTimeoutMillis: 2000, resourceAttributes: {}, bridgeVersion: 't' })).toThrow(/above the interval/);
  });

  it('OTEL_METRICS_EXPORTER: otlp, console, both, none; BRIDGE_METRICS=false still turns them off', () => {
    expect(loadServiceConfig({ OTEL_METRICS_EXPORTER: 'console' }).metrics).toMatchObject({ enabled: true, exporters: ['console'] });
    expect(loadServiceConfig({ OTEL_METRICS_EXPORTER: 'otlp, console' }).metrics).toMatchObject({ enabled: true, exporters: ['otlp', 'console'] });
    expect(loadServiceConfig({ OTEL_METRICS_EXPORTER: 'none', OTEL_METRIC_EXPORT_INTERVAL: '1000' })).toMatchObject({ metrics: { enabled: false, exporters: [] }, warnings: [] });
    expect(loadServiceConfig({ BRIDGE_METRICS: 'false' }).metrics).toMatchObject({ enabled: false, exporters: [] });
    expect(configIssuesOf({ OTEL_METRICS_EXPORTER: 'prometheus' })).toEqual([expect.stringMatching(/^OTEL_METRICS_EXPORTER is invalid: expected otlp, console or none \(actual: 'prometheus'; prometheus is refused: the bridge's own \/metrics serves Prometheus/)]);
    expect(configIssuesOf({ OTEL_METRICS_EXPORTER: 'otlp,none' })).toEqual([`OTEL_METRICS_EXPORTER is invalid: expected a comma-separated list of otlp and console, or none (actual: 'otlp,none')`]);
  });

  it('reads the temporality preference and the metrics compression', () => {
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip' }).metrics).toMatchObject({ temporality: 'delta', compression: 'gzip' });
    expect(configIssuesOf({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes' })).toEqual([
      "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE is invalid: expected cumulative, delta or lowmemory (actual: 'sometimes')",
    ]);
  });
});
