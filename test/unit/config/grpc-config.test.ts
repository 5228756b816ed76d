// OTLP/gRPC in the settings: OTEL_EXPORTER_OTLP_PROTOCOL=grpc (and per signal, and per
// destination) uses the endpoint as is (no /v1/… path), defaults to localhost:4317, and is refused
// for a langfuse destination (Langfuse takes OTLP/HTTP only).
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { configIssuesOf } from '../../helpers/config-issues.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bridge-grpc-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OTLP/gRPC settings', () => {
  it('uses the endpoint as is for gRPC, defaulting to http://localhost:4317', () => {
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toMatchObject({
      otlp: { url: 'http://localhost:4317', protocol: 'grpc' },
      metrics: { url: 'http://localhost:4317', protocol: 'grpc' },
    });
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4317' })).toMatchObject({
      otlp: { url: 'https://collector:4317', protocol: 'grpc' },
      metrics: { url: 'https://collector:4317', protocol: 'grpc' },
    });
  });

  it('takes the signal protocol first: gRPC traces with OTLP/HTTP metrics, and the reverse', () => {
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' })).toMatchObject({
      otlp: { url: 'http://c:4317', protocol: 'grpc' },
      metrics: { url: 'http://c:4317/v1/metrics', protocol: 'http/protobuf' },
    });
    expect(loadServiceConfig({ OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:4317' }).metrics).toMatchObject({ url: 'http://m:4317', protocol: 'grpc' });
  });

  it('an otlp destination with protocol: grpc uses its endpoint as is; a langfuse one is refused', () => {
    const file = path.join(dir, 'grpc.yaml');
    writeFileSync(
      file,
      ['destinations:', '  - { name: collector, type: otlp, endpoint: "http://collector:4317", protocol: grpc, compression: gzip }'].join('\n'),
    );
    expect(loadServiceConfig({ BRIDGE_CONFIG: file }).destinations).toEqual([expect.objectContaining({ name: 'collector', url: 'http://collector:4317', protocol: 'grpc', compression: 'gzip' })]);
    writeFileSync(file, ['destinations:', '  - { name: lf, type: langfuse, endpoint: "https://cloud.langfuse.com", public_key: pk, secret_key: sk, protocol: grpc }'].join('\n'));
    expect(configIssuesOf({ BRIDGE_CONFIG: file })).toEqual([`${file}: destinations[0].protocol: expected http/protobuf or http/json: Langfuse's OTLP endpoint takes OTLP/HTTP only (actual: 'grpc')`]);
    expect(configIssuesOf({ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' })).toEqual(["OTEL_EXPORTER_OTLP_PROTOCOL is invalid: expected http/protobuf, http/json or grpc (actual: 'thrift')"]);
  });
});
