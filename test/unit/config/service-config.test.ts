import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../../../src/config/service-config.js';
import { configIssuesOf } from '../../helpers/config-issues.js';

describe('loadServiceConfig', () => {
  it('has the documented defaults', () => {
    const config = loadServiceConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      mapping: 'genai',
      traceIdleMillis: 10_000,
      observationTimeoutMillis: 600_000,
      captureContent: true,
      dataDir: './data',
      store: 'sqlite',
      spoolMaxBytes: 1024 ** 3,
      maxBodyBytes: 4_718_592,
      maxEventsPerRequest: 10_000,
      maxErrorsPerResponse: 100,
      maxConnections: 1024,
      storeOnCorrupt: 'refuse',
      storeReserveBytes: 16 * 1024 * 1024,
      shutdownTimeoutMillis: 10_000,
      tenancy: { mode: 'open' },
      otlp: { url: 'http://localhost:4318/v1/traces', protocol: 'http/protobuf', timeoutMillis: 10_000, compression: 'none', headers: {} },
    });
  });

  it('reads the hostile-caller and broken-disk settings, and refuses an unknown corrupt-store policy', () => {
    expect(loadServiceConfig({ BRIDGE_STORE_ON_CORRUPT: 'quarantine', BRIDGE_MAX_EVENTS_PER_REQUEST: '5' })).toMatchObject({ storeOnCorrupt: 'quarantine', maxEventsPerRequest: 5 });
    expect(() => loadServiceConfig({ BRIDGE_STORE_ON_CORRUPT: 'delete', BRIDGE_MAX_CONNECTIONS: '0' })).toThrow(
      /BRIDGE_MAX_CONNECTIONS is invalid[\s\S]*BRIDGE_STORE_ON_CORRUPT is invalid: expected refuse or quarantine/,
    );
  });

  it('bounds the heap growth at 70% unless told (0: V8 decides), and refuses what is not a percent', () => {
    expect(loadServiceConfig({}).heapGrowingPercent).toBe(70);
    expect(loadServiceConfig({ BRIDGE_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(() => loadServiceConfig({ BRIDGE_HEAP_GROWING_PERCENT: '-5' })).toThrow(/BRIDGE_HEAP_GROWING_PERCENT is invalid: expected a whole number from 0 to 1000/);
  });

  it('follows the OTLP endpoint rules: signal endpoint as is, generic one + /v1/traces, signal protocol first', () => {
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).otlp.url).toBe('http://c:4318/v1/traces');
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }).otlp.url).toBe('http://t/x');
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).otlp.protocol).toBe('http/json');
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).otlp.protocol).toBe('http/protobuf');
  });

  it('resolves cost estimation and the metrics endpoint (signal endpoint as is, generic one + /v1/metrics)', () => {
    expect(loadServiceConfig({})).toMatchObject({
      estimateCost: true,
      metrics: { enabled: true, url: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf', exportIntervalMillis: 60_000, timeoutMillis: 10_000 },
    });
    const off = loadServiceConfig({ BRIDGE_ESTIMATE_COST: 'false', BRIDGE_METRICS: 'false' });
    expect([off.estimateCost, off.metrics.enabled]).toEqual([false, false]);
    const custom = loadServiceConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9090/otlp/v1/metrics',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-scope-orgid=t1',
      OTEL_METRIC_EXPORT_INTERVAL: '5000',
    });
    expect(custom.metrics).toMatchObject({ url: 'http://m:9090/otlp/v1/metrics', protocol: 'http/json', headers: { 'x-scope-orgid': 't1' }, exportIntervalMillis: 5000 });
    expect(custom.otlp.url).toBe('http://c:4318/v1/traces');
  });

  it('parses headers and resource attributes with percent-decoding', () => {
    const config = loadServiceConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Basic%20abc, x-tenant=t1', OTEL_RESOURCE_ATTRIBUTES: 'team=ai,deployment.environment.name=prod' });
    expect(config.otlp.headers).toEqual({ Authorization: 'Basic abc', 'x-tenant': 't1' });
    expect(config.resourceAttributes).toEqual({ team: 'ai', 'deployment.environment.name': 'prod' });
  });

  it('reports every bad variable at once, naming the variable, the expectation and the value', () => {
    let error: ConfigError | undefined;
    try {
      loadServiceConfig({ BRIDGE_PORT: 'eighty', BRIDGE_CAPTURE_CONTENT: 'maybe', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift', BRIDGE_TRACE_IDLE_MS: '-5', LANGFUSE_PUBLIC_KEY: 'pk' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.issues).toHaveLength(5);
    expect(error!.message).toContain("BRIDGE_PORT is invalid: expected a whole number from 0 to 65535 (actual: 'eighty')");
    expect(error!.message).toContain("BRIDGE_CAPTURE_CONTENT is invalid: expected one of true, false, 1, 0, yes, no (actual: 'maybe')");
    expect(error!.message).toContain("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is invalid: expected http/protobuf, http/json or grpc (actual: 'thrift')");
    expect(error!.message).toContain("BRIDGE_TRACE_IDLE_MS is invalid");
    expect(error!.message).toContain('LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY must be set together');
  });

  it('names the headers variable that holds the bad value, once', () => {
    const issuesOf = (env: Record<string, string>): string[] => {
      try {
        loadServiceConfig(env);
      } catch (e) {
        return (e as ConfigError).issues;
      }
      return [];
    };
    expect(issuesOf({ OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'garbage' })).toEqual(["OTEL_EXPORTER_OTLP_TRACES_HEADERS is invalid: expected comma-separated key=value pairs (actual: 'garbage')"]);
    expect(issuesOf({ OTEL_EXPORTER_OTLP_HEADERS: 'garbage' })).toEqual(["OTEL_EXPORTER_OTLP_HEADERS is invalid: expected comma-separated key=value pairs (actual: 'garbage')"]);
    expect(issuesOf({ OTEL_EXPORTER_OTLP_HEADERS: 'garbage', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'a=b' })).toEqual([
      "OTEL_EXPORTER_OTLP_HEADERS is invalid: expected comma-separated key=value pairs (actual: 'garbage')",
    ]);
  });

  it('treats an empty OTEL_SERVICE_NAME as unset and refuses a blank one, naming it', () => {
    // The SDK environment specification: an empty value is the same as unset.
    expect(loadServiceConfig({ OTEL_SERVICE_NAME: '' }).serviceName).toBeUndefined();
    // Only blanks is no name (a quoting slip in a compose file); ` ` would label every span.
    for (const blank of [' ', '  ', '\t']) {
      expect(configIssuesOf({ OTEL_SERVICE_NAME: blank })).toEqual([`OTEL_SERVICE_NAME is invalid: expected a service name, not only blanks; leave it empty for none (actual: '${blank}')`]);
    }
    expect(loadServiceConfig({ OTEL_SERVICE_NAME: 'checkout' }).serviceName).toBe('checkout');
  });

  it('refuses a duration a Node timer cannot hold (above 2147483647 ms it fires after 1 ms)', () => {
    let error: ConfigError | undefined;
    try {
      loadServiceConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '99999999999', OTEL_METRIC_EXPORT_INTERVAL: '2147483648', OTEL_METRIC_EXPORT_TIMEOUT: '99999999999', BRIDGE_SHUTDOWN_TIMEOUT_MS: '99999999999' });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.issues).toEqual([
      "BRIDGE_SHUTDOWN_TIMEOUT_MS is invalid: expected a whole number from 0 to 2147483647 (actual: '99999999999')",
      "OTEL_EXPORTER_OTLP_TIMEOUT is invalid: expected a whole number from 1 to 2147483647 (actual: '99999999999')",
      "OTEL_METRIC_EXPORT_INTERVAL is invalid: expected a whole number from 100 to 2147483647 (actual: '2147483648')",
      "OTEL_METRIC_EXPORT_TIMEOUT is invalid: expected a whole number from 1 to 2147483647 (actual: '99999999999')",
    ]);
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2147483647' }).otlp.timeoutMillis).toBe(2147483647);
  });

  it('lets overrides win over the environment', () => {
    expect(loadServiceConfig({ BRIDGE_PORT: '1' }, { BRIDGE_PORT: '2' }).port).toBe(2);
  });
});
