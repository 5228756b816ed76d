#!/usr/bin/env node
// `npm run bench:gateway` (builds first): events/s end to end and the 207's p99 for the gateway
// mode with one and with two replicas on a real Kafka 4.4 broker (bench/lib/kafka-broker.mjs,
// jars from scripts/provision-e2e.sh), beside the single-process SQLite figure from the same run
// and the same load: --events LiteLLM-shaped events (trace-create + generation-create pairs) in
// requests of --batch, --concurrency clients (split evenly over the replicas), every span checked
// at a local OTLP sink; and the gateway with one replica and TWO destinations (each its own sink):
// every destination has its own consumer group that assembles the topic itself, so this run shows
// what that independence costs (the bridges' CPU per event, from /proc, beside the rates). Nothing is pinned: the broker (a JVM) shares the 2 cores with the bridges,
// the load and the sink, so the figures compare the modes on this machine, not a deployment.
// Then one JSON line with every figure. Exit code 1 when a span is missing.
// Flags: node bench/gateway.mjs --help
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { startBridge } from './lib/bridge-process.mjs';
import { COMMON_FLAGS, envPairs, parseFlags } from './lib/flags.mjs';
import { startKafkaBroker } from './lib/kafka-broker.mjs';
import { createBodyStream } from './lib/litellm-bodies.mjs';
import { closedLoop, latencySummary } from './lib/load.mjs';
import { startSinkProcess } from './lib/otlp-sink.mjs';

const FLAGS = {
  events: { type: 'string', default: '40000', help: 'events per run' },
  batch: { type: 'string', default: '20', help: 'events per request' },
  concurrency: { type: 'string', default: '8', help: 'clients (split over the replicas)' },
  partitions: { type: 'string', default: '16', help: 'partitions of the gateway topic' },
  skip: { type: 'string', multiple: true, default: [], help: 'skip a run: sqlite, gateway1, gateway2, gateway1x2dest (repeatable)' },
  ...COMMON_FLAGS,
};
const flags = parseFlags('npm run bench:gateway -- [flags]   (or: node bench/gateway.mjs [flags] after npm run build)', FLAGS);
const num = (name) => Number(flags[name]);
const extraEnv = envPairs(flags.env);
let failed = false;

const sink = await startSinkProcess();
const sink2 = flags.skip.includes('gateway1x2dest') ? undefined : await startSinkProcess();
const broker = await startKafkaBroker();
const results = { bench: 'gateway', settings: { ...flags, help: undefined }, loadAverage: loadavg() };
let topicSeq = 0;

/** Runs the load over `bridges` (each its share of clients and events), waits for every span at every sink. */
async function run(label, bridges, sinks = [sink]) {
  await Promise.all(sinks.map((s) => s.reset()));
  const cpuBefore = bridges.map((b) => (b.cpuSeconds() ?? Number.NaN));
  const stream = createBodyStream();
  const events = num('events');
  const perBridge = Math.floor(events / bridges.length);
  const clients = Math.max(1, Math.floor(num('concurrency') / bridges.length));
  const firstSentAt = performance.now();
  const loads = await Promise.all(bridges.map((b) => closedLoop({ baseUrl: b.url, stream, events: perBridge, batch: num('batch'), concurrency: clients })));
  const accepted = loads.reduce((n, l) => n + l.accepted, 0);
  const lastAck = Math.max(...loads.map((l) => l.lastAnsweredAt));
  // One span per event: a generation, or the root span of its trace.
  const waits = await Promise.all(sinks.map((s) => s.waitForSpans(accepted, num('drain-timeout-seconds') * 1000)));
  const cpuSeconds = bridges.reduce((n, b, i) => n + (b.cpuSeconds() ?? Number.NaN) - cpuBefore[i], 0);
  const done = {
    at: waits.some((w) => w.at === undefined) ? undefined : Math.max(...waits.map((w) => w.at)),
    check: { missing: waits.reduce((n, w) => n + w.check.missing, 0), duplicates: waits.reduce((n, w) => n + w.check.duplicates, 0) },
  };
  if (done.check.missing > 0) failed = true;
  const seconds = done.at === undefined ? undefined : (done.at - firstSentAt) / 1000;
  const result = {
    replicas: bridges.length,
    destinations: sinks.length,
    events: accepted,
    bridgeCpuMicrosPerEvent: Math.round((cpuSeconds * 1e6) / accepted),
    acksPerSecond: Math.round(accepted / ((lastAck - firstSentAt) / 1000)),
    endToEndEventsPerSecond: seconds === undefined ? undefined : Math.round(accepted / seconds),
    requestLatencyMs: latencySummary(loads.flatMap((l) => l.latencies)),
    refused503: loads.reduce((n, l) => n + l.refused503, 0),
    peakRssMb: bridges.map((b) => +b.peakRssMb().toFixed(1)),
    spans: waits.map((w) => w.check),
  };
  console.log(
    `${label}: ${accepted} events, ${result.acksPerSecond} acks/s, ${result.endToEndEventsPerSecond ?? 'TIMEOUT'} events/s end to end; 207 p50 ${result.requestLatencyMs.p50} ms, p99 ${result.requestLatencyMs.p99} ms; bridge CPU ${result.bridgeCpuMicrosPerEvent} µs/event; 503s ${result.refused503}; peak RSS ${result.peakRssMb.join(', ')} MB; ${done.check.missing} missing, ${done.check.duplicates} duplicates`,
  );
  return result;
}

async function withBridges(count, env, body) {
  const dirs = [];
  const bridges = [];
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-gw-'));
      dirs.push(dataDir);
      const bridge = await startBridge({ dataDir, otlpUrl: sink.tracesUrl, env: { BRIDGE_TRACE_IDLE_MS: flags['trace-idle-ms'], BRIDGE_METRICS: 'false', ...env, ...extraEnv } });
      bridges.push(bridge);
      await bridge.ready();
    }
    // Let the group settle (each join rebalances every member).
    if (env.BRIDGE_KAFKA_BROKERS) await new Promise((r) => setTimeout(r, 3000));
    return await body(bridges);
  } finally {
    await Promise.all(bridges.map((b) => b.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const gatewayEnv = () => ({ BRIDGE_KAFKA_BROKERS: broker.bootstrap, BRIDGE_KAFKA_TOPIC: `bench-${process.pid}-${++topicSeq}`, BRIDGE_KAFKA_PARTITIONS: flags.partitions });

try {
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; broker, bridges, load and sink share the machine's cores (other work skews every figure)`);
  if (!flags.skip.includes('sqlite')) results.sqlite = await withBridges(1, {}, (b) => run('single process, SQLite', b));
  if (!flags.skip.includes('gateway1')) results.gateway1 = await withBridges(1, gatewayEnv(), (b) => run('gateway, 1 replica', b));
  if (!flags.skip.includes('gateway2')) results.gateway2 = await withBridges(2, gatewayEnv(), (b) => run('gateway, 2 replicas', b));
  if (sink2) {
    const dir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-gw-config-'));
    const config = path.join(dir, 'destinations.yaml');
    writeFileSync(config, `destinations:\n  - { name: one, type: otlp, traces_endpoint: '${sink.tracesUrl}' }\n  - { name: two, type: otlp, traces_endpoint: '${sink2.tracesUrl}' }\n`);
    try {
      results.gateway1x2dest = await withBridges(1, { ...gatewayEnv(), BRIDGE_CONFIG: config }, (b) => run('gateway, 1 replica, 2 destinations', b, [sink, sink2]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  await sink.stop();
  await sink2?.stop();
  await broker.stop();
}
console.log(JSON.stringify(results));
process.exit(failed ? 1 : 0);
