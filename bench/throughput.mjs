#!/usr/bin/env node
// `npm run bench` (builds first): the built bridge as a separate process, SQLite store in a
// temporary BRIDGE_DATA_DIR, pinned to one core (taskset) while this load generator and a local
// OTLP sink run on the other. One run prints:
//   1. end to end: a burst of --events LiteLLM-shaped events (--batch per request, --concurrency
//      clients) accepted by the bridge AND exported to the sink (distinct span ids counted and
//      checked against the events acknowledged); acks/s; peak RSS during the burst;
//   2. the in-process ceiling: the same bodies through the built service without HTTP and without
//      a store (memory store: parse, validate, assemble, map, OTLP protobuf, export);
//   3. an OpenTelemetry Collector (Jaeger v2 from .e2e-cache/bin/jaeger, OTLP in, OTLP out, pinned
//      to the bridge's core) relaying the bridge's own output of run 1 (up to --relay-megabytes);
//   4. the 207's p50/p99 at --latency-rate events/s in batches of --latency-batch (open loop).
// Then the ratios of run 1 to runs 2 and 3, and one JSON line with every figure. Exit code 1 when a
// span is missing.
// Flags: node bench/throughput.mjs --help
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { hasTaskset, pinCores, ROOT, runtimeBetween, runtimeFigures, startBridge } from './lib/bridge-process.mjs';
import { createBodyStream } from './lib/litellm-bodies.mjs';
import { COMMON_FLAGS, envPairs, parseFlags } from './lib/flags.mjs';
import { closedLoop, latencySummary, openLoop } from './lib/load.mjs';
import { startSinkProcess } from './lib/otlp-sink.mjs';
import { relayThroughCollector, relayUnavailable } from './lib/collector-relay.mjs';

const FLAGS = {
  events: { type: 'string', default: '200000', help: 'events in the end-to-end burst' },
  batch: { type: 'string', default: '200', help: 'events per request in the burst and the ceiling' },
  concurrency: { type: 'string', default: '4', help: 'clients in the burst' },
  'ceiling-events': { type: 'string', default: '', help: 'events for the in-process ceiling (default: --events)' },
  'latency-rate': { type: 'string', default: '5000', help: 'events/s of the latency run' },
  'latency-batch': { type: 'string', default: '15', help: 'events per request of the latency run' },
  'latency-seconds': { type: 'string', default: '20', help: 'duration of the latency run' },
  'latency-warmup-seconds': { type: 'string', default: '2', help: 'first seconds left out of the percentiles' },
  'relay-megabytes': { type: 'string', default: '96', help: "the bridge's output kept for the Collector comparison" },
  ...COMMON_FLAGS,
  skip: { type: 'string', multiple: true, default: [], help: 'skip a part: e2e, ceiling, collector, latency (repeatable)' },
};

const flags = parseFlags('npm run bench -- [flags]   (or: node bench/throughput.mjs [flags] after npm run build)', FLAGS);
const num = (name) => Number(flags[name]);
const extraEnv = envPairs(flags.env);
const bridgeEnv = { BRIDGE_TRACE_IDLE_MS: flags['trace-idle-ms'], ...extraEnv };
const bridgeCpu = num('bridge-cpu');
const pinning = pinCores(bridgeCpu, num('load-cpu'));
const cpu = pinning.pinned ? bridgeCpu : undefined;
const mb = (bytes) => +(bytes / 1048576).toFixed(1);

const sink = await startSinkProcess();
const results = { bench: 'throughput', pinning: pinning.note, settings: { ...flags, help: undefined } };
let failed = false;

/** Waits for every acknowledged span at the sink; a missing one fails the run. */
async function spansArrived(expected) {
  const done = await sink.waitForSpans(expected, num('drain-timeout-seconds') * 1000);
  if (done.check.missing > 0 || done.check.undecodableRequests > 0) failed = true;
  return done;
}

/** A fresh bridge on a fresh store, ready, for `run(bridge)`; stopped and removed after. */
async function withFreshBridge(prefix, run) {
  await sink.reset();
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const bridge = await startBridge({ dataDir, otlpUrl: sink.tracesUrl, env: bridgeEnv, cpu, nodeFlags: flags['node-flag'], ...(flags['cpu-prof-dir'] ? { cpuProfileDir: flags['cpu-prof-dir'] } : {}) });
  try {
    await bridge.ready();
    return await run(bridge);
  } finally {
    await bridge.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function endToEnd() {
  return withFreshBridge('bridge-bench-e2e-', async (bridge) => {
    const baseRssMb = bridge.memory().rssKb / 1024;
    // The bridge's own output, kept for the Collector comparison.
    await sink.capture(num('relay-megabytes') * 1048576);
    const stream = createBodyStream();
    const runtimeBefore = await runtimeFigures(bridge);
    const load = await closedLoop({ baseUrl: bridge.url, stream, events: num('events'), batch: num('batch'), concurrency: num('concurrency') });
    const acksSeconds = (load.lastAnsweredAt - load.firstSentAt) / 1000;
    // One span per event: a generation, or the root span of its trace.
    const done = await spansArrived(load.accepted);
    const e2eSeconds = done.at === undefined ? undefined : (done.at - load.firstSentAt) / 1000;
    // The bridge's CPU from the first request until the sink held every span: the cost per event
    // whatever else the machine was doing (a wall-clock rate also counts waiting for the core).
    const runtime = runtimeBetween(runtimeBefore, await runtimeFigures(bridge), load.accepted);
    const result = {
      events: load.accepted,
      bytesPerEvent: Math.round(load.acceptedBytes / Math.max(1, load.accepted)),
      eventsPerRequest: num('batch'),
      concurrency: num('concurrency'),
      refused503: load.refused503,
      otherFailures: load.failed,
      rejectedEvents: load.rejectedEvents,
      acksPerSecond: Math.round(load.accepted / acksSeconds),
      acksSeconds: +acksSeconds.toFixed(2),
      endToEndSeconds: e2eSeconds === undefined ? undefined : +e2eSeconds.toFixed(2),
      endToEndEventsPerSecond: e2eSeconds === undefined ? undefined : Math.round(load.accepted / e2eSeconds),
      requestLatencyMs: latencySummary(load.latencies),
      bridgeCpuSeconds: runtime?.cpuSeconds,
      cpuMicrosPerEvent: runtime?.cpuMicrosPerEvent,
      baseRssMb: +baseRssMb.toFixed(1),
      burstPeakRssMb: +bridge.peakRssMb().toFixed(1),
      bridgeRuntime: runtime,
      otlp: { requests: done.stats.requests, megabytes: mb(done.stats.bytes), bytesPerSpan: Math.round(done.stats.bytes / Math.max(1, done.stats.spans)) },
      spans: done.check,
    };
    console.log(`end to end: ${result.events} events (${result.bytesPerEvent} B/event, ${result.eventsPerRequest}/request, ${result.concurrency} clients) acknowledged in ${result.acksSeconds} s = ${result.acksPerSecond} acks/s; all exported after ${result.endToEndSeconds ?? 'TIMEOUT'} s = ${result.endToEndEventsPerSecond ?? '-'} events/s end to end`);
    console.log(`  bridge CPU: ${result.bridgeCpuSeconds ?? '-'} s for the burst = ${result.cpuMicrosPerEvent ?? '-'} µs per event (user + system, all threads, first request to last span exported)`);
    console.log(`  spans: ${result.spans.distinctExported}/${result.spans.expected} distinct exported, ${result.spans.missing} missing, ${result.spans.duplicates} duplicates; OTLP ${result.otlp.requests} requests, ${result.otlp.megabytes} MB, ${result.otlp.bytesPerSpan} B/span`);
    console.log(`  burst: peak RSS ${result.burstPeakRssMb} MB (idle ${result.baseRssMb} MB); request latency p50 ${result.requestLatencyMs.p50} ms, p99 ${result.requestLatencyMs.p99} ms; 503s ${result.refused503}`);
    if (runtime) console.log(`  bridge: ${describeRuntime(runtime)}`);
    return result;
  });
}

async function ceiling() {
  await sink.reset();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-ceiling-'));
  const events = Number(flags['ceiling-events'] || flags.events);
  const argv = [process.execPath, path.join(ROOT, 'bench', 'lib', 'in-process-ceiling.mjs'), sink.tracesUrl, dataDir, String(events), flags.batch, flags['trace-idle-ms'], 'memory'];
  const pinned = cpu !== undefined && hasTaskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
  const child = spawn(pinned[0], pinned.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
  try {
    const lines = [];
    let startedAt;
    let waiter;
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (line.started) startedAt = performance.now();
        lines.push(line);
        waiter?.();
      }
    });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const finished = await Promise.race([
      (async () => {
        while (!lines.some((l) => l.ingestMillis !== undefined)) await new Promise((resolve) => (waiter = resolve));
        return lines.find((l) => l.ingestMillis !== undefined);
      })(),
      exited.then((exit) => {
        throw new Error(`in-process ceiling exited early: ${JSON.stringify(exit)}`);
      }),
    ]);
    const done = await spansArrived(finished.accepted);
    const seconds = done.at === undefined ? undefined : (done.at - startedAt) / 1000;
    const result = {
      events: finished.accepted,
      eventsPerRequest: num('batch'),
      refused: finished.refused,
      ingestEventsPerSecond: Math.round(finished.accepted / (finished.ingestMillis / 1000)),
      endToEndSeconds: seconds === undefined ? undefined : +seconds.toFixed(2),
      endToEndEventsPerSecond: seconds === undefined ? undefined : Math.round(finished.accepted / seconds),
      spans: done.check,
    };
    console.log(`in-process ceiling (no HTTP, no store, same bodies, one core): ${result.events} events ingested at ${result.ingestEventsPerSecond} events/s; all exported after ${result.endToEndSeconds ?? 'TIMEOUT'} s = ${result.endToEndEventsPerSecond ?? '-'} events/s end to end (${result.spans.missing} missing)`);
    return result;
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function collector() {
  const unavailable = relayUnavailable();
  if (unavailable) {
    console.log(`Collector comparison skipped: ${unavailable}`);
    return { skipped: unavailable };
  }
  const { bodies, spans } = await sink.captured();
  if (bodies.length === 0) {
    console.log('Collector comparison skipped: no bridge output kept (run the end-to-end part)');
    return { skipped: 'no bridge output' };
  }
  const result = await relayThroughCollector({ sink, bodies, spans, cpu });
  console.log(`OpenTelemetry Collector (Jaeger v2, OTLP in/out, one core) relaying the bridge's own output: ${result.spans} spans in ${result.requests} requests (${result.megabytes} MB) relayed in ${result.seconds ?? 'TIMEOUT'} s = ${result.spansPerSecond ?? '-'} spans/s; failed requests ${result.failedRequests}`);
  return result;
}

/** CPU per event, GC time and event-loop delay: what a latency or memory figure comes from. */
function describeRuntime(runtime) {
  const kinds = Object.entries(runtime.gcMillis)
    .filter(([kind, ms]) => kind !== 'total' && ms > 0)
    .map(([kind, ms]) => `${kind} ${ms} in ${runtime.gcPauses[kind]?.count} pauses, ${runtime.gcPauses[kind]?.over10Ms} over 10 ms`)
    .join(', ');
  return `CPU ${runtime.cpuMicrosPerEvent} µs/event; GC ${runtime.gcMillis.total} ms (${kinds}); event-loop delay p99 ${runtime.eventLoopDelayMs.p99} ms, max ${runtime.eventLoopDelayMs.max} ms`;
}

function latency() {
  return withFreshBridge('bridge-bench-latency-', async (bridge) => {
    const runtimeBefore = await runtimeFigures(bridge);
    const load = await openLoop({
      baseUrl: bridge.url,
      stream: createBodyStream(),
      eventsPerSecond: num('latency-rate'),
      batch: num('latency-batch'),
      seconds: num('latency-seconds'),
      warmupSeconds: num('latency-warmup-seconds'),
    });
    // Before the drain: the event-loop delay is that of the run at the given rate.
    const runtimeAfter = await runtimeFigures(bridge);
    const done = await spansArrived(load.accepted);
    const runtime = runtimeBetween(runtimeBefore, runtimeAfter, load.accepted);
    const result = {
      eventsPerSecond: num('latency-rate'),
      eventsPerRequest: num('latency-batch'),
      seconds: num('latency-seconds'),
      requests: load.requests,
      non207: load.non207,
      failed: load.failed,
      failures: load.failures,
      latencyMs: latencySummary(load.latencies),
      serviceLatencyMs: latencySummary(load.serviceLatencies),
      peakRssMb: +bridge.peakRssMb().toFixed(1),
      bridgeRuntime: runtime,
      spans: done.check,
    };
    console.log(`latency at ${result.eventsPerSecond} events/s in batches of ${result.eventsPerRequest} for ${result.seconds} s (open loop, from the scheduled send): p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms over ${result.latencyMs.count} requests; non-207 ${result.non207}, failed ${result.failed}${result.failed ? ` ${JSON.stringify(result.failures)}` : ''}; peak RSS ${result.peakRssMb} MB; ${result.spans.missing} spans missing`);
    if (runtime) console.log(`  bridge: ${describeRuntime(runtime)}`);
    return result;
  });
}

try {
  console.log(`pinning: ${pinning.note}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure)`);
  results.loadAverage = loadavg();
  if (!flags.skip.includes('e2e')) results.endToEnd = await endToEnd();
  if (!flags.skip.includes('collector')) results.collector = await collector();
  if (!flags.skip.includes('ceiling')) results.ceiling = await ceiling();
  if (!flags.skip.includes('latency')) results.latency = await latency();
} finally {
  await sink.stop();
}
// The ratios of the same run: the bridge's end-to-end rate (one span per event) to each reference.
const bridgeRate = results.endToEnd?.endToEndEventsPerSecond;
const ratio = (reference) => (bridgeRate && reference ? +(bridgeRate / reference).toFixed(3) : undefined);
results.ratios = { toInProcessCeiling: ratio(results.ceiling?.endToEndEventsPerSecond), toCollector: ratio(results.collector?.spansPerSecond) };
console.log(`ratios (same run): bridge ${bridgeRate ?? '-'} events/s = ${results.ratios.toInProcessCeiling ?? '-'} of the in-process ceiling (${results.ceiling?.endToEndEventsPerSecond ?? '-'}/s), ${results.ratios.toCollector ?? '-'} of the Collector relay (${results.collector?.spansPerSecond ?? '-'} spans/s)`);
console.log(JSON.stringify(results));
process.exit(failed ? 1 : 0);
