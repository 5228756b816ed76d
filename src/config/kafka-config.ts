// The gateway mode's settings (BRIDGE_KAFKA_*): which brokers, topic and consumer group, how a
// missing topic is created, TLS and SASL. Pure: resolves from a plain env object, reports every
// problem into the caller's list, never reads process.env nor talks to a broker.
import { readFileSync } from 'node:fs';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaConfig {
  /** `host:port` of the bootstrap brokers. */
  brokers: string[];
  /** The topic every accepted event is written to, keyed by its trace. */
  topic: string;
  /** `<topic>-exported`: compacted, same partition count; the record of exported entities. */
  exportedTopic: string;
  /** `<topic>-dead-letters`: spans refused for good and records that could not be mapped. */
  deadLetterTopic: string;
  /** The prefix of the consumer groups the replicas share: one per destination, `<group>.<destination>`. */
  group: string;
  clientId: string;
  /** Partitions of the topics when the bridge creates them (over-partition: adding later re-maps keys). */
  partitions: number;
  /** Replication factor of the topics the bridge creates (-1: the broker's default). */
  replicationFactor: number;
  /** TLS towards the brokers; `ca` replaces the system's roots when given (PEM). */
  tls?: { ca?: string; rejectUnauthorized: boolean };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** How long a request waits for the broker's acknowledgement before it is answered 503. */
  produceTimeoutMillis: number;
  /** Spans waiting per destination in this replica's memory; past it fetching pauses. */
  maxQueuedSpansPerDestination: number;
  /** Exported-entity markers held in this replica's memory; past it the oldest are evicted. */
  maxMarkers: number;
}

const NAME = /^[A-Za-z0-9._-]{1,200}$/;

function whole(value: string, min: number, max: number): number | undefined {
  if (!/^-?\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

/**
 * The Kafka settings from the environment; undefined when BRIDGE_KAFKA_BROKERS is not set (the
 * bridge then keeps its embedded log). Every bad variable is pushed to `issues`.
 */
export function resolveKafkaConfig(env: Record<string, string | undefined>, issues: string[]): KafkaConfig | undefined {
  const get = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const bad = (name: string, expected: string) => issues.push(`${name} is invalid: expected ${expected} (actual: '${env[name]}')`);
  const brokersText = get('BRIDGE_KAFKA_BROKERS');
  const others = Object.keys(env).filter((k) => k.startsWith('BRIDGE_KAFKA_') && k !== 'BRIDGE_KAFKA_BROKERS' && get(k) !== undefined);
  if (brokersText === undefined) {
    if (others.length > 0) issues.push(`${others.sort().join(', ')} set without BRIDGE_KAFKA_BROKERS: expected BRIDGE_KAFKA_BROKERS too (the gateway mode is off without it)`);
    return undefined;
  }
  const brokers = brokersText.split(',').map((b) => b.trim()).filter((b) => b !== '');
  if (brokers.length === 0 || !brokers.every((b) => /^[^\s:,]+:\d{1,5}$/.test(b) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(b))) {
    bad('BRIDGE_KAFKA_BROKERS', 'a comma-separated list of host:port');
  }
  const name = (variable: string, fallback: string) => {
    const v = get(variable) ?? fallback;
    if (!NAME.test(v)) bad(variable, 'a topic or group name of letters, digits, ".", "_" or "-"');
    return v;
  };
  const topic = name('BRIDGE_KAFKA_TOPIC', 'langfuse-otel-bridge');
  const group = name('BRIDGE_KAFKA_GROUP', 'langfuse-otel-bridge');
  const clientId = name('BRIDGE_KAFKA_CLIENT_ID', 'langfuse-otel-bridge');
  const number = (variable: string, fallback: number, min: number, max: number) => {
    const v = get(variable);
    if (v === undefined) return fallback;
    const n = whole(v, min, max);
    if (n === undefined) bad(variable, `a whole number from ${min} to ${max}`);
    return n ?? fallback;
  };
  const partitions = number('BRIDGE_KAFKA_PARTITIONS', 64, 1, 10_000);
  const replicationFactor = number('BRIDGE_KAFKA_REPLICATION_FACTOR', -1, -1, 100);
  if (replicationFactor === 0) bad('BRIDGE_KAFKA_REPLICATION_FACTOR', 'a whole number from 1 to 100, or -1 for the broker default');
  const produceTimeoutMillis = number('BRIDGE_KAFKA_PRODUCE_TIMEOUT_MS', 10_000, 100, 600_000);
  const maxQueuedSpansPerDestination = number('BRIDGE_KAFKA_MAX_QUEUED_SPANS', 20_000, 1, 10_000_000);
  // About 120 bytes a marker (bench/markers-memory.mjs): the default holds at most about 30 MB, a
  // small share of the default 512 MiB memory budget (a larger default would let markers alone keep
  // the consumers paused at that budget). 250,000 covers minutes of traffic at 1,000 entities/s,
  // which is what a replay after a rebalance and late updates need.
  const maxMarkers = number('BRIDGE_KAFKA_MAX_MARKERS', 250_000, 1000, 100_000_000);

  let tls: KafkaConfig['tls'];
  const tlsText = get('BRIDGE_KAFKA_TLS');
  const caFile = get('BRIDGE_KAFKA_TLS_CA_FILE');
  if (tlsText !== undefined && !['true', 'false'].includes(tlsText.toLowerCase())) bad('BRIDGE_KAFKA_TLS', 'true or false');
  const insecure = get('BRIDGE_KAFKA_TLS_INSECURE');
  if (insecure !== undefined && !['true', 'false'].includes(insecure.toLowerCase())) bad('BRIDGE_KAFKA_TLS_INSECURE', 'true or false');
  if (tlsText?.toLowerCase() === 'true' || caFile !== undefined) {
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = readFileSync(caFile, 'utf8');
        if (!ca.includes('-----BEGIN CERTIFICATE-----')) bad('BRIDGE_KAFKA_TLS_CA_FILE', 'a PEM file of CA certificates');
      } catch (error) {
        bad('BRIDGE_KAFKA_TLS_CA_FILE', `a readable PEM file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    tls = { ...(ca !== undefined ? { ca } : {}), rejectUnauthorized: insecure?.toLowerCase() !== 'true' };
  }

  let sasl: KafkaConfig['sasl'];
  const mechanism = get('BRIDGE_KAFKA_SASL_MECHANISM')?.toLowerCase();
  const username = env.BRIDGE_KAFKA_SASL_USERNAME ?? '';
  const password = env.BRIDGE_KAFKA_SASL_PASSWORD ?? '';
  if (mechanism !== undefined) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') bad('BRIDGE_KAFKA_SASL_MECHANISM', 'plain, scram-sha-256 or scram-sha-512');
    else if (username === '' || password === '') issues.push('BRIDGE_KAFKA_SASL_USERNAME and BRIDGE_KAFKA_SASL_PASSWORD are required with BRIDGE_KAFKA_SASL_MECHANISM');
    else sasl = { mechanism, username, password };
  } else if (username !== '' || password !== '') {
    issues.push('BRIDGE_KAFKA_SASL_USERNAME/PASSWORD set without BRIDGE_KAFKA_SASL_MECHANISM: expected plain, scram-sha-256 or scram-sha-512 too');
  }

  return {
    brokers,
    topic,
    exportedTopic: `${topic}-exported`,
    deadLetterTopic: `${topic}-dead-letters`,
    group,
    clientId,
    partitions,
    replicationFactor,
    ...(tls ? { tls } : {}),
    ...(sasl ? { sasl } : {}),
    produceTimeoutMillis,
    maxQueuedSpansPerDestination,
    maxMarkers,
  };
}
