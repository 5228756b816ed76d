import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServiceConfig } from '../../../src/config/service-config.js';

const load = (env: Record<string, string>) => loadServiceConfig({ BRIDGE_STORE: 'memory', ...env });

describe('Kafka settings', () => {
  it('off without BRIDGE_KAFKA_BROKERS: the bridge is as before', () => {
    expect(load({}).kafka).toBeUndefined();
  });

  it('defaults: topic and group langfuse-otel-bridge, 64 partitions, the companion topic', () => {
    expect(load({ BRIDGE_KAFKA_BROKERS: 'k1:9092, k2:9092' }).kafka).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topic: 'langfuse-otel-bridge',
      exportedTopic: 'langfuse-otel-bridge-exported',
      deadLetterTopic: 'langfuse-otel-bridge-dead-letters',
      group: 'langfuse-otel-bridge',
      clientId: 'langfuse-otel-bridge',
      partitions: 64,
      maxMarkers: 250_000,
    });
  });

  it('the markers cap: a whole number from 1000, from the environment or the file', () => {
    expect(load({ BRIDGE_KAFKA_BROKERS: 'k1:9092', BRIDGE_KAFKA_MAX_MARKERS: '5000' }).kafka?.maxMarkers).toBe(5000);
    expect(() => load({ BRIDGE_KAFKA_BROKERS: 'k1:9092', BRIDGE_KAFKA_MAX_MARKERS: '10' })).toThrow("BRIDGE_KAFKA_MAX_MARKERS is invalid: expected a whole number from 1000 to 100000000 (actual: '10')");
  });

  it('SASL SCRAM and TLS', () => {
    const kafka = load({
      BRIDGE_KAFKA_BROKERS: 'k1:9093',
      BRIDGE_KAFKA_TLS: 'true',
      BRIDGE_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      BRIDGE_KAFKA_SASL_USERNAME: 'bridge',
      BRIDGE_KAFKA_SASL_PASSWORD: 'secret',
    }).kafka;
    expect(kafka).toMatchObject({ tls: { rejectUnauthorized: true }, sasl: { mechanism: 'scram-sha-512', username: 'bridge', password: 'secret' } });
  });

  it('reports every bad setting at once, with the variable, what was expected and the value', () => {
    let error: unknown;
    try {
      load({
        BRIDGE_KAFKA_BROKERS: 'nohost',
        BRIDGE_KAFKA_PARTITIONS: '0',
        BRIDGE_KAFKA_TOPIC: 'bad topic',
        BRIDGE_KAFKA_SASL_MECHANISM: 'gssapi',
        BRIDGE_KAFKA_TLS_CA_FILE: '/nonexistent/ca.pem',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toContain("BRIDGE_KAFKA_BROKERS is invalid: expected a comma-separated list of host:port (actual: 'nohost')");
    expect(issues).toContain("BRIDGE_KAFKA_PARTITIONS is invalid: expected a whole number from 1 to 10000 (actual: '0')");
    expect(issues).toContain('BRIDGE_KAFKA_TOPIC is invalid');
    expect(issues).toContain('BRIDGE_KAFKA_SASL_MECHANISM is invalid: expected plain, scram-sha-256 or scram-sha-512');
    expect(issues).toContain('BRIDGE_KAFKA_TLS_CA_FILE is invalid');
  });

  it('a Kafka setting without brokers is an error, not silently ignored', () => {
    expect(() => load({ BRIDGE_KAFKA_TOPIC: 'x' })).toThrow(/BRIDGE_KAFKA_TOPIC set without BRIDGE_KAFKA_BROKERS/);
  });
});

describe('the kafka: section of the BRIDGE_CONFIG file', () => {
  const file = (text: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kafka-config-'));
    const name = path.join(dir, 'bridge.yaml');
    writeFileSync(name, text);
    return name;
  };
  const DESTINATIONS = 'destinations:\n  - { name: out, type: console }\n';

  it('turns the gateway mode on; the environment wins over the file', () => {
    const config = load({
      BRIDGE_CONFIG: file(`kafka:\n  brokers: [k1:9092, k2:9092]\n  topic: from-file\n  partitions: 32\n  produce_timeout: 3s\n  max_markers: 50000\n  sasl: { mechanism: scram-sha-256, username: u, password: "\${env:KAFKA_PASSWORD}" }\n${DESTINATIONS}`),
      KAFKA_PASSWORD: 'p',
      BRIDGE_KAFKA_TOPIC: 'from-env',
    });
    expect(config.kafka).toMatchObject({ brokers: ['k1:9092', 'k2:9092'], topic: 'from-env', partitions: 32, produceTimeoutMillis: 3000, maxMarkers: 50_000, sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' } });
  });

  it('a bad section names the file and the path', () => {
    const name = file(`kafka:\n  brokers: k1:9092\n  partitions: lots\n  sasl: { mechanism: gssapi, username: u, password: p }\n${DESTINATIONS}`);
    let error: unknown;
    try {
      load({ BRIDGE_CONFIG: name });
    } catch (e) {
      error = e;
    }
    const issues = (error as ConfigError).issues.join('\n');
    expect(issues).toContain(`${name}: kafka.partitions`);
    expect(issues).toContain(`${name}: kafka.sasl.mechanism`);
  });
});
