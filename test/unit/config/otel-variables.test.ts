// The OpenTelemetry SDK environment-variable specification as a table (src/config/otel-variables.ts):
// every variable of the specification's list for trace and metric exporters, resource, limits,
// samplers and processors is in it, and for each one: read (and the test below shows its effect),
// refused at start with a reason, or not applicable (and then setting it changes nothing). The
// README's table is the list rendered.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { OTEL_VARIABLES, renderOtelVariablesTable } from '../../../src/config/otel-variables.js';
import { ConfigError, loadServiceConfig, type Env, type ServiceConfig } from '../../../src/config/service-config.js';
import { toReadableSpan } from '../../../src/export/to-readable-span.js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { configIssuesOf } from '../../helpers/config-issues.js';
import { makeDraft } from '../../helpers/make-draft.js';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.js';

/**
 * The specification's names (opentelemetry-specification, configuration/sdk-environment-variables.md
 * and protocol/exporter.md), written out here so a variable missing from the bridge's list fails.
 */
const SPECIFICATION = [
  'OTEL_SDK_DISABLED', 'OTEL_ENTITIES', 'OTEL_RESOURCE_ATTRIBUTES', 'OTEL_SERVICE_NAME', 'OTEL_LOG_LEVEL', 'OTEL_PROPAGATORS',
  'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG', 'OTEL_CONFIG_FILE',
  'OTEL_BSP_SCHEDULE_DELAY', 'OTEL_BSP_EXPORT_TIMEOUT', 'OTEL_BSP_MAX_QUEUE_SIZE', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BLRP_SCHEDULE_DELAY', 'OTEL_BLRP_EXPORT_TIMEOUT', 'OTEL_BLRP_MAX_QUEUE_SIZE', 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_SPAN_EVENT_COUNT_LIMIT', 'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_LOGS_EXPORTER',
  'OTEL_METRICS_EXEMPLAR_FILTER', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'OTEL_EXPORTER_ZIPKIN_TIMEOUT', 'OTEL_EXPORTER_PROMETHEUS_HOST', 'OTEL_EXPORTER_PROMETHEUS_PORT',
  ...['', 'TRACES_', 'METRICS_', 'LOGS_'].flatMap((signal) =>
    ['ENDPOINT', 'INSECURE', 'CERTIFICATE', 'CLIENT_KEY', 'CLIENT_CERTIFICATE', 'HEADERS', 'COMPRESSION', 'TIMEOUT', 'PROTOCOL'].map((s) => `OTEL_EXPORTER_OTLP_${signal}${s}`),
  ),
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
];

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.remove());

/** `checkedOnly`: the value is validated and has nothing to act on (span event and link limits). */
type Probe = { env: () => Env; effect: (config: ServiceConfig) => void; checkedOnly?: true };
const otlpDestination = (config: ServiceConfig) => {
  const d = config.destinations[0];
  if (d?.type !== 'otlp') throw new Error('expected the otlp destination');
  return d;
};
const signalProbes = (suffix: string, value: () => string, traces: (c: ServiceConfig) => unknown, metrics: (c: ServiceConfig) => unknown, expected: (value: string) => unknown): Record<string, Probe> => ({
  [`OTEL_EXPORTER_OTLP_${suffix}`]: { env: () => ({ [`OTEL_EXPORTER_OTLP_${suffix}`]: value() }), effect: (c) => expect([traces(c), metrics(c)]).toEqual([expected(value()), expected(value())]) },
  [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`]: { env: () => ({ [`OTEL_EXPORTER_OTLP_TRACES_${suffix}`]: value() }), effect: (c) => expect(traces(c)).toEqual(expected(value())) },
  [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`]: { env: () => ({ [`OTEL_EXPORTER_OTLP_METRICS_${suffix}`]: value() }), effect: (c) => expect(metrics(c)).toEqual(expected(value())) },
});

function withPartner(probes: Record<string, Probe>, suffix: string, partner: string, file: () => string): Record<string, Probe> {
  return Object.fromEntries(Object.entries(probes).map(([name, probe]) => [name, { ...probe, env: () => ({ [name.replace(suffix, partner)]: file(), ...probe.env() }) }]));
}

/** For every variable the bridge reads: a value, and what it changes. */
const READ: Record<string, Probe> = {
  OTEL_SERVICE_NAME: { env: () => ({ OTEL_SERVICE_NAME: 'checkout' }), effect: (c) => expect(c.serviceName).toBe('checkout') },
  OTEL_RESOURCE_ATTRIBUTES: { env: () => ({ OTEL_RESOURCE_ATTRIBUTES: 'team=a%20b' }), effect: (c) => expect(c.resourceAttributes).toEqual({ team: 'a b' }) },
  OTEL_TRACES_EXPORTER: { env: () => ({ OTEL_TRACES_EXPORTER: 'console' }), effect: (c) => expect(c.destinations.map((d) => d.type)).toEqual(['console']) },
  OTEL_METRICS_EXPORTER: { env: () => ({ OTEL_METRICS_EXPORTER: 'none' }), effect: (c) => expect(c.metrics.enabled).toBe(false) },
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: { env: () => ({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '5' }), effect: (c) => expect(otlpDestination(c).attributeValueLengthLimit).toBe(5) },
  OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: { env: () => ({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '5', OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '7' }), effect: (c) => expect(otlpDestination(c).attributeValueLengthLimit).toBe(7) },
  OTEL_ATTRIBUTE_COUNT_LIMIT: { env: () => ({ OTEL_ATTRIBUTE_COUNT_LIMIT: '3' }), effect: (c) => expect(otlpDestination(c).attributeCountLimit).toBe(3) },
  OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: { env: () => ({ OTEL_ATTRIBUTE_COUNT_LIMIT: '3', OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2' }), effect: (c) => expect(otlpDestination(c).attributeCountLimit).toBe(2) },
  ...Object.fromEntries(
    ['OTEL_SPAN_EVENT_COUNT_LIMIT', 'OTEL_SPAN_LINK_COUNT_LIMIT', 'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT', 'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT'].map((name) => [
      name,
      // Checked: a bad value stops the start; a good one has nothing to cut (no events, no links).
      { env: () => ({ [name]: '4' }), effect: () => expect(configIssuesOf({ [name]: 'many' })).toEqual([expect.stringMatching(new RegExp(`^${name} is invalid: expected a whole number`))]), checkedOnly: true },
    ]),
  ),
  ...signalProbes('ENDPOINT', () => 'http://collector:4318', (c) => c.otlp.url, (c) => c.metrics.url, () => expect.stringMatching(/^http:\/\/collector:4318(\/v1\/(traces|metrics))?$/)),
  ...signalProbes('PROTOCOL', () => 'grpc', (c) => c.otlp.protocol, (c) => c.metrics.protocol, (v) => v),
  ...signalProbes('HEADERS', () => 'x-tenant=a', (c) => c.otlp.headers, (c) => c.metrics.headers, () => ({ 'x-tenant': 'a' })),
  ...signalProbes('COMPRESSION', () => 'gzip', (c) => c.otlp.compression, (c) => c.metrics.compression, (v) => v),
  ...signalProbes('TIMEOUT', () => '4321', (c) => c.otlp.timeoutMillis, (c) => c.metrics.timeoutMillis, (v) => Number(v)),
  ...signalProbes('CERTIFICATE', () => certs.files.ca, (c) => c.otlp.tls?.files.ca, (c) => c.metrics.tls?.files.ca, (v) => v),
  // A certificate needs its key and the key its certificate: each probe sets the other one in the same form.
  ...withPartner(signalProbes('CLIENT_CERTIFICATE', () => certs.files.clientCert, (c) => c.otlp.tls?.files.cert, (c) => c.metrics.tls?.files.cert, (v) => v), 'CLIENT_CERTIFICATE', 'CLIENT_KEY', () => certs.files.clientKey),
  ...withPartner(signalProbes('CLIENT_KEY', () => certs.files.clientKey, (c) => c.otlp.tls?.files.key, (c) => c.metrics.tls?.files.key, (v) => v), 'CLIENT_KEY', 'CLIENT_CERTIFICATE', () => certs.files.clientCert),
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: { env: () => ({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }), effect: (c) => expect(c.metrics.temporality).toBe('delta') },
  OTEL_METRIC_EXPORT_INTERVAL: { env: () => ({ OTEL_METRIC_EXPORT_INTERVAL: '45000' }), effect: (c) => expect(c.metrics.exportIntervalMillis).toBe(45_000) },
  OTEL_METRIC_EXPORT_TIMEOUT: { env: () => ({ OTEL_METRIC_EXPORT_TIMEOUT: '12000' }), effect: (c) => expect(c.metrics.exportTimeoutMillis).toBe(12_000) },
};

/** A value someone might set for a variable that does not apply (it must change nothing). */
const NOT_APPLICABLE_VALUE: Record<string, string> = { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '0.1', OTEL_PROPAGATORS: 'b3', OTEL_LOG_LEVEL: 'debug', OTEL_METRICS_EXEMPLAR_FILTER: 'always_on' };

const byStatus = (status: string) => OTEL_VARIABLES.filter((v) => v.status === status).flatMap((v) => v.names.map((name) => ({ name, value: v.value })));

describe('the OpenTelemetry variables table', () => {
  it("lists every variable of the specification's list, each once", () => {
    const listed = OTEL_VARIABLES.flatMap((v) => v.names);
    expect(new Set(listed).size).toBe(listed.length);
    expect(SPECIFICATION.filter((name) => !listed.includes(name))).toEqual([]);
    expect(listed.filter((name) => !SPECIFICATION.includes(name))).toEqual([]);
    for (const v of OTEL_VARIABLES) expect(v.what.length, v.names.join()).toBeGreaterThan(10);
  });

  it.each(byStatus('read'))('$name is read, with an effect', ({ name }) => {
    const probe = READ[name];
    expect(probe, `no effect check for ${name}`).toBeDefined();
    const config = loadServiceConfig(probe!.env());
    probe!.effect(config);
    // And the effect is the variable's: without it the value differs (or the start is refused).
    const without = Object.fromEntries(Object.entries(probe!.env()).filter(([key]) => key !== name));
    if (!probe!.checkedOnly) expect(() => probe!.effect(loadServiceConfig(without))).toThrow();
  });

  it.each(byStatus('refused'))('$name is refused at start, naming it ($value)', ({ name, value }) => {
    const issues = configIssuesOf({ [name]: value === 'any' ? 'otel.yaml' : value! });
    expect(issues).toEqual([expect.stringMatching(new RegExp(`^${name} is invalid: expected .{20,}`))]);
  });

  it.each(byStatus('not applicable'))('$name is not applicable: setting it changes nothing', ({ name }) => {
    const value = NOT_APPLICABLE_VALUE[name] ?? 'true';
    expect(loadServiceConfig({ [name]: value })).toEqual(loadServiceConfig({}));
  });

  it('names the 2147483647 ms maximum exactly for the variables that refuse more', () => {
    // A Node timer fires after 1 ms past 2^31-1 ms, so those durations are refused at start.
    const issuesOf = (env: Record<string, string>): string[] => {
      try {
        loadServiceConfig(env);
        return [];
      } catch (error) {
        if (error instanceof ConfigError) return error.issues;
        throw error;
      }
    };
    const refusesPastTimer = (name: string) => issuesOf({ [name]: '2147483648' }).some((issue) => issue.startsWith(`${name} is invalid`) && issue.includes('2147483647'));
    for (const v of OTEL_VARIABLES) {
      for (const name of v.names) {
        expect(v.what.includes('2147483647'), `${name}: the table should say whether it is limited to 2147483647 ms`).toBe(refusesPastTimer(name));
        if (refusesPastTimer(name)) expect(issuesOf({ [name]: '2147483647' }), name).toEqual([]);
      }
    }
  });

  it("the README's table is the list, rendered", () => {
    const readme = readFileSync(path.join(import.meta.dirname, '..', '..', '..', 'README.md'), 'utf8');
    const start = readme.indexOf('<!-- otel-variables:start -->');
    const end = readme.indexOf('<!-- otel-variables:end -->');
    expect(start, 'README has no <!-- otel-variables:start --> marker').toBeGreaterThan(0);
    const table = readme.slice(start + '<!-- otel-variables:start -->'.length, end).trim();
    expect(table, 'regenerate the table: renderOtelVariablesTable() in src/config/otel-variables.ts').toBe(renderOtelVariablesTable());
  });
});

describe('span limits on exported spans', () => {
  const resource = resourceFromAttributes({});
  const scope = { name: 'test' };
  const draft = makeDraft({ attributes: { a: 'abcdefghij', b: ['abcdefghij', 'xy'], c: 3, d: true } });

  it('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT cuts strings, also inside arrays', () => {
    const config = loadServiceConfig({ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4' });
    const span = toReadableSpan(draft, resource, scope, { attributeValueLengthLimit: otlpDestination(config).attributeValueLengthLimit! });
    expect(span.attributes).toEqual({ a: 'abcd', b: ['abcd', 'xy'], c: 3, d: true });
  });

  it('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT keeps the first attributes and counts the rest as dropped', () => {
    const config = loadServiceConfig({ OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '2' });
    const span = toReadableSpan(draft, resource, scope, { attributeCountLimit: otlpDestination(config).attributeCountLimit! });
    expect(span.attributes).toEqual({ a: 'abcdefghij', b: ['abcdefghij', 'xy'] });
    expect(span.droppedAttributesCount).toBe(2);
    expect(toReadableSpan(draft, resource, scope, {}).droppedAttributesCount).toBe(0);
  });
});

describe('span limits per destination', () => {
  it('attribute_count_limit in the destinations file wins over OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-limits-'));
    try {
      const file = path.join(dir, 'bridge.yaml');
      writeFileSync(file, 'destinations:\n  - { name: a, type: otlp, endpoint: "http://c:4318", attribute_count_limit: 9 }\n  - { name: b, type: otlp, endpoint: "http://c:4318" }\n');
      const [a, b] = loadServiceConfig({ BRIDGE_CONFIG: file, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '4' }).destinations;
      expect([a?.attributeCountLimit, b?.attributeCountLimit]).toEqual([9, 4]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
