#!/usr/bin/env node
// `npm run bench:outage` (builds first): the built bridge (SQLite store, temporary
// BRIDGE_DATA_DIR) pinned to one core, inside a memory limit (--memory-mib, a cgroup of its own;
// see lib/memory-limit.mjs), load generator and OTLP sink on the other core.
//   1. outage: the backend answers 503 (or --backend closed: nothing listens) while LiteLLM-shaped
//      bodies are sent as fast as they are taken, until the bridge has refused everything for
//      --full-seconds (the spool of --spool-mib is full) or died. Prints RSS against the bytes
//      accepted, the spool gauges and the store's size on disk, and whether the kernel OOM-killed it.
//   2. restart on that store, same limit, backend back up (--restart-backend down keeps it down):
//      time to listening (TCP accept), to /api/public/health 200, to /api/public/ready 200, RSS
//      there, then the drain: every span acknowledged during the outage must reach the sink.
//   3. soak: --soak-rate events/s in batches of --soak-batch for --soak-seconds, backend up,
//      open loop: p50/p99 and RSS every --sample-seconds, then the exported check.
// Ends with one JSON line with every figure. Flags: node bench/outage.mjs --help
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { bridgeMetrics, closedPortUrl, diskBytes, httpRequest, pinCores, startBridge } from './lib/bridge-process.mjs';
import { COMMON_FLAGS, envPairs, parseFlags } from './lib/flags.mjs';
import { createBodyStream } from './lib/litellm-bodies.mjs';
import { closedLoop, latencySummary, openLoop } from './lib/load.mjs';
import { createMemoryLimit, heapLimitMib } from './lib/memory-limit.mjs';
import { startSinkProcess } from './lib/otlp-sink.mjs';

const flags = parseFlags('npm run bench:outage -- [flags]   (or: node bench/outage.mjs [flags] after npm run build)', {
  'spool-mib': { type: 'string', default: '1024', help: 'BRIDGE_SPOOL_MAX_BYTES in MiB: how much the outage fills' },
  'message-bytes': { type: 'string', default: '', help: "each call's prompt and answer padded to this many bytes (e.g. 10240)" },
  'memory-mib': { type: 'string', default: '512', help: 'memory limit of the bridge (0: none) for the outage and the restart' },
  backend: { type: 'string', default: '503', help: 'the outage: 503 (answers 503 + Retry-After) or closed (connection refused)' },
  'restart-backend': { type: 'string', default: 'up', help: 'backend during the restart: up or down' },
  stop: { type: 'string', default: 'kill', help: 'how the bridge stops before the restart: kill (SIGKILL) or term (SIGTERM)' },
  batch: { type: 'string', default: '200', help: 'events per request while filling' },
  concurrency: { type: 'string', default: '2', help: 'clients while filling' },
  'full-seconds': { type: 'string', default: '5', help: 'the outage ends after this long without a 207' },
  'hold-seconds': { type: 'string', default: '5', help: 'RSS is watched this long after the spool is full' },
  'fill-timeout-seconds': { type: 'string', default: '900', help: 'longest fill' },
  'step-mib': { type: 'string', default: '', help: 'a row every this many MiB accepted (default: spool/16, at least 8)' },
  'ready-timeout-seconds': { type: 'string', default: '180', help: 'longest wait for ready after the restart' },
  'settle-seconds': { type: 'string', default: '5', help: 'RSS is watched this long after ready' },
  'drain-timeout-seconds': { type: 'string', default: '180', help: 'longest wait for the backlog to reach the sink after the restart' },
  'soak-rate': { type: 'string', default: '5000', help: 'events/s of the soak' },
  'soak-batch': { type: 'string', default: '100', help: 'events per request of the soak' },
  'soak-seconds': { type: 'string', default: '180', help: 'duration of the soak (0: skip it)' },
  'soak-memory-mib': { type: 'string', default: '0', help: 'memory limit of the bridge during the soak (0: none)' },
  'sample-seconds': { type: 'string', default: '10', help: 'soak: a row every this many seconds' },
  ...COMMON_FLAGS,
  skip: { type: 'string', multiple: true, default: [], help: 'skip a part: outage (and so restart), restart, soak (repeatable)' },
});
const num = (name) => Number(flags[name]);
const bodyOptions = flags['message-bytes'] ? { messageBytes: num('message-bytes') } : {};
const mb = (bytes) => (bytes === undefined ? undefined : +(bytes / 1048576).toFixed(1));
const sleep = (millis) => new Promise((resolve) => setTimeout(resolve, millis));
const spoolBytes = num('spool-mib') * 1048576;
const pinning = pinCores(num('bridge-cpu'), num('load-cpu'));
const cpu = pinning.pinned ? num('bridge-cpu') : undefined;
const bridgeEnv = {
  BRIDGE_TRACE_IDLE_MS: flags['trace-idle-ms'],
  BRIDGE_SPOOL_MAX_BYTES: String(spoolBytes),
  BRIDGE_SHUTDOWN_TIMEOUT_MS: '3000',
  ...envPairs(flags.env),
};

const sink = await startSinkProcess();
const downUrl = flags.backend === 'closed' ? await closedPortUrl() : sink.tracesUrl;
const results = { bench: 'outage', pinning: pinning.note, settings: { ...flags } };
let failed = false;

/** Gauges worth a column: the request log (spool) and whatever queue/memory gauges the bridge has. */
function gaugeColumns(metrics) {
  if (!metrics) return {};
  const out = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (/^bridge_(spool_bytes|spool_entries|pending_entities|export_queue_[a-z_]+|queue_[a-z_]+|memory_[a-z_]+)$/.test(name)) out[name] = /bytes$/.test(name) ? mb(value) : value;
  }
  return out;
}

function tcpListening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** How the bridge ended, if it did: the kernel's OOM killer, V8's heap limit, or a signal/code. */
function describeExit(bridge, limit) {
  const oomKills = limit.oomKills();
  const unknown = limit.kind === 'none' ? 'n/a (no limit)' : 'unknown';
  let death;
  if (bridge.exit) {
    failed = true;
    if (oomKills > 0) death = 'kernel OOM kill';
    else if (bridge.events.heapOutOfMemory) death = 'V8 heap limit (JavaScript heap out of memory)';
    else death = `exit ${JSON.stringify(bridge.exit)}`;
  }
  return { exit: bridge.exit ?? 'running', death, oomKills: oomKills === undefined ? unknown : oomKills };
}

async function outage(dataDir) {
  await sink.reset();
  if (flags.backend !== 'closed') await sink.setStatus(503);
  const limit = createMemoryLimit('outage', num('memory-mib'));
  console.log(`memory limit: ${limit.note}; V8 heap limit of node inside it: ${heapLimitMib(limit) ?? '?'} MiB`);
  const bridge = await startBridge({ dataDir, otlpUrl: downUrl, env: bridgeEnv, cpu, limit, nodeFlags: flags['node-flag'] });
  const rows = [];
  try {
    await bridge.ready();
    const stepBytes = (Number(flags['step-mib']) || Math.max(8, num('spool-mib') / 16)) * 1048576;
    let nextRowAt = 0;
    let lastAcceptAt = performance.now();
    let accepted = { events: 0, bytes: 0 };
    let firstRefusal;
    const started = performance.now();
    console.log('outage: accepted MB | RSS MB | cgroup MB | disk MB | gauges');
    const row = async (force = false) => {
      if (!force && accepted.bytes < nextRowAt) return;
      nextRowAt = Math.floor(accepted.bytes / stepBytes + 1) * stepBytes;
      const m = bridge.memory();
      const r = {
        seconds: +((performance.now() - started) / 1000).toFixed(1),
        acceptedMb: mb(accepted.bytes),
        acceptedEvents: accepted.events,
        rssMb: m ? mb(m.rssKb * 1024) : undefined,
        cgroupMb: mb(limit.usageBytes()),
        diskMb: mb(diskBytes(dataDir)),
        ...gaugeColumns(await bridgeMetrics(bridge.url)),
      };
      rows.push(r);
      const gauges = Object.entries(r).filter(([k]) => k.startsWith('bridge_')).map(([k, v]) => `${k.replace('bridge_', '')}=${v}`).join(' ');
      console.log(`  ${String(r.acceptedMb).padStart(8)} | ${String(r.rssMb ?? 'dead').padStart(7)} | ${String(r.cgroupMb ?? '-').padStart(7)} | ${String(r.diskMb).padStart(7)} | t=${r.seconds}s ${gauges}`);
    };
    const sampler = setInterval(() => void row(), 250);
    const deadline = started + num('fill-timeout-seconds') * 1000;
    const load = await closedLoop({
      baseUrl: bridge.url,
      stream: createBodyStream(undefined, bodyOptions),
      events: Number.MAX_SAFE_INTEGER,
      batch: num('batch'),
      concurrency: num('concurrency'),
      maxRetryMillis: 250,
      onAnswer(answer, body) {
        if (answer.status === 207) {
          accepted = { events: accepted.events + answer.successes, bytes: accepted.bytes + Buffer.byteLength(body) };
          lastAcceptAt = performance.now();
        } else if (!firstRefusal) firstRefusal = { status: answer.status, retryAfterSeconds: answer.retryAfterSeconds, acceptedMb: mb(accepted.bytes), error: answer.error };
      },
      shouldStop: () => Boolean(bridge.exit) || performance.now() - lastAcceptAt > num('full-seconds') * 1000 || performance.now() > deadline || accepted.bytes > 1.5 * spoolBytes,
    });
    clearInterval(sampler);
    await row(true);
    const fullAt = performance.now();
    const readyWhenFull = await httpRequest(`${bridge.url}/api/public/ready`, { timeoutMillis: 5_000 });
    while (!bridge.exit && performance.now() - fullAt < num('hold-seconds') * 1000) await sleep(250);
    await row(true);
    const result = {
      memoryLimit: limit.note,
      acceptedEvents: load.accepted,
      acceptedMb: mb(load.acceptedBytes),
      refused503: load.refused503,
      otherFailures: load.failed,
      firstRefusal,
      readyWhenFull: { status: readyWhenFull.status, body: readyWhenFull.text?.slice(0, 200) },
      peakRssMb: +bridge.peakRssMb().toFixed(1),
      cgroupPeakMb: mb(limit.peakBytes()),
      diskMb: mb(diskBytes(dataDir)),
      ...describeExit(bridge, limit),
      rows,
    };
    console.log(
      `outage: ${result.acceptedEvents} events (${result.acceptedMb} MB) accepted; first refusal ${JSON.stringify(firstRefusal)}; /ready when full ${readyWhenFull.status}; peak RSS ${result.peakRssMb} MB (cgroup peak ${result.cgroupPeakMb ?? '-'} MB); store ${result.diskMb} MB on disk; ${result.death ? `DIED: ${result.death}` : 'alive'}, oom_kill ${result.oomKills}`,
    );
    return { result, bridge, limit };
  } catch (error) {
    await bridge.stop('SIGKILL');
    limit.remove();
    throw error;
  }
}

async function restart(dataDir, expectedSpans) {
  const up = flags['restart-backend'] === 'up';
  if (up) await sink.setStatus(200);
  const limit = createMemoryLimit('restart', num('memory-mib'));
  const bridge = await startBridge({ dataDir, otlpUrl: up ? sink.tracesUrl : downUrl, env: bridgeEnv, cpu, limit, nodeFlags: flags['node-flag'] });
  try {
    const port = Number(new URL(bridge.url).port);
    const times = {};
    const deadline = performance.now() + num('ready-timeout-seconds') * 1000;
    let readyAnswer;
    while (!bridge.exit && performance.now() < deadline && times.readyMs === undefined) {
      const at = () => Math.round(performance.now() - bridge.startedAt);
      if (times.listeningMs === undefined && (await tcpListening(port))) times.listeningMs = at();
      if (times.listeningMs !== undefined && times.healthMs === undefined && (await httpRequest(`${bridge.url}/api/public/health`, { timeoutMillis: 1_000 })).status === 200) times.healthMs = at();
      if (times.healthMs !== undefined) {
        readyAnswer = await httpRequest(`${bridge.url}/api/public/ready`, { timeoutMillis: 1_000 });
        if (readyAnswer.status === 200) {
          times.readyMs = at();
          break;
        }
      }
      await sleep(20);
    }
    const atReady = bridge.memory();
    const peakUntilReadyMb = bridge.peakRssMb();
    const settleEnd = performance.now() + num('settle-seconds') * 1000;
    while (!bridge.exit && performance.now() < settleEnd) await sleep(100);
    let drain;
    if (up && !bridge.exit) {
      const drainStart = performance.now();
      const done = await sink.waitForSpans(expectedSpans, num('drain-timeout-seconds') * 1000, () => Boolean(bridge.exit));
      drain = { ...done.check, secondsAfterSettle: +((performance.now() - drainStart) / 1000).toFixed(1), complete: done.at !== undefined };
      if (!drain.complete) failed = true;
    }
    const result = {
      memoryLimit: limit.note,
      backend: up ? 'up' : 'down',
      listeningMs: times.listeningMs,
      listeningLogMs: bridge.events.listeningLogMillis === undefined ? undefined : Math.round(bridge.events.listeningLogMillis),
      healthMs: times.healthMs,
      readyMs: times.readyMs,
      notReadyAnswer: times.readyMs === undefined ? { status: readyAnswer?.status, body: readyAnswer?.text?.slice(0, 200) } : undefined,
      rssAtReadyMb: atReady ? mb(atReady.rssKb * 1024) : undefined,
      peakRssUntilReadyMb: +peakUntilReadyMb.toFixed(1),
      peakRssMb: +bridge.peakRssMb().toFixed(1),
      cgroupPeakMb: mb(limit.peakBytes()),
      drain,
      ...describeExit(bridge, limit),
    };
    const s = (ms) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(2)} s`);
    console.log(
      `restart with ${mb(diskBytes(dataDir))} MB on disk (${limit.note}, backend ${result.backend}): listening ${s(result.listeningMs)} (log line ${s(result.listeningLogMs)}), health ${s(result.healthMs)}, ready ${s(result.readyMs)}; RSS at ready ${result.rssAtReadyMb ?? '-'} MB, peak ${result.peakRssMb} MB (cgroup peak ${result.cgroupPeakMb ?? '-'} MB); ${result.death ? `DIED: ${result.death}` : 'alive'}, oom_kill ${result.oomKills}`,
    );
    if (result.notReadyAnswer) console.log(`  not ready: ${JSON.stringify(result.notReadyAnswer)}`);
    if (drain) console.log(`  drain: ${drain.distinctExported}/${drain.expected} acknowledged spans exported (${drain.missing} missing, ${drain.duplicates} duplicates) ${drain.secondsAfterSettle} s after the settle`);
    return result;
  } finally {
    await bridge.stop('SIGKILL');
    limit.remove();
  }
}

async function soak() {
  await sink.setStatus(200);
  await sink.reset();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-soak-'));
  const limit = createMemoryLimit('soak', num('soak-memory-mib'));
  const bridge = await startBridge({ dataDir, otlpUrl: sink.tracesUrl, env: { ...bridgeEnv, BRIDGE_SPOOL_MAX_BYTES: String(Math.max(spoolBytes, 1073741824)) }, cpu, limit });
  try {
    await bridge.ready();
    const rows = [];
    console.log(`soak: ${flags['soak-rate']} events/s in batches of ${flags['soak-batch']} for ${flags['soak-seconds']} s (${limit.note}); per ${flags['sample-seconds']} s:`);
    console.log('  t s | p50 ms | p99 ms | max ms | in flight | RSS MB | exported | gauges');
    const load = await openLoop({
      baseUrl: bridge.url,
      stream: createBodyStream(undefined, bodyOptions),
      eventsPerSecond: num('soak-rate'),
      batch: num('soak-batch'),
      seconds: num('soak-seconds'),
      intervalSeconds: num('sample-seconds'),
      async onInterval(summary) {
        const m = bridge.memory();
        const r = { ...summary, rssMb: m ? mb(m.rssKb * 1024) : undefined, exported: (await sink.stats()).distinctSpans, ...gaugeColumns(await bridgeMetrics(bridge.url)) };
        rows.push(r);
        const gauges = Object.entries(r).filter(([k]) => k.startsWith('bridge_')).map(([k, v]) => `${k.replace('bridge_', '')}=${v}`).join(' ');
        console.log(`  ${String(r.atSeconds).padStart(4)} | ${String(r.p50).padStart(6)} | ${String(r.p99).padStart(6)} | ${String(r.max).padStart(6)} | ${String(r.inFlight).padStart(9)} | ${String(r.rssMb ?? 'dead').padStart(6)} | ${String(r.exported).padStart(8)} | ${gauges}`);
      },
    });
    const done = await sink.waitForSpans(load.accepted, num('drain-timeout-seconds') * 1000, () => Boolean(bridge.exit));
    const result = {
      memoryLimit: limit.note,
      eventsPerSecond: num('soak-rate'),
      eventsPerRequest: num('soak-batch'),
      seconds: num('soak-seconds'),
      requests: load.requests,
      non207: load.non207,
      failed: load.failed,
      failures: load.failures,
      latencyMs: latencySummary(load.latencies),
      peakRssMb: +bridge.peakRssMb().toFixed(1),
      spans: done.check,
      ...describeExit(bridge, limit),
      rows,
    };
    if (result.spans.missing > 0) failed = true;
    console.log(
      `soak: p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms over ${result.latencyMs.count} requests (non-207 ${result.non207}, failed ${result.failed}${result.failed ? ` ${JSON.stringify(result.failures)}` : ''}); peak RSS ${result.peakRssMb} MB; ${result.spans.distinctExported}/${result.spans.expected} spans exported (${result.spans.missing} missing); ${result.death ? `DIED: ${result.death}` : 'alive'}, oom_kill ${result.oomKills}`,
    );
    return result;
  } finally {
    await bridge.stop();
    limit.remove();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  console.log(`pinning: ${pinning.note}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine skews every figure)`);
  results.loadAverage = loadavg();
  if (!flags.skip.includes('outage')) {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-outage-'));
    try {
      const { result, bridge, limit } = await outage(dataDir);
      results.outage = result;
      await bridge.stop(flags.stop === 'term' ? 'SIGTERM' : 'SIGKILL');
      limit.remove();
      if (!flags.skip.includes('restart')) results.restart = await restart(dataDir, result.acceptedEvents);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  if (num('soak-seconds') > 0 && !flags.skip.includes('soak')) results.soak = await soak();
} finally {
  await sink.stop();
}
console.log(JSON.stringify(results));
process.exit(failed ? 1 : 0);
