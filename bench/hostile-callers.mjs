#!/usr/bin/env node
// Hostile callers against the built bridge (run `npm run build` first; not part of `npm test`):
//  1. legitimate latency (one client, LiteLLM-sized batches of 10 events) alone, then during a
//     flood of 4 MB bodies with a wrong key from 8 connections: p50/p99, flood requests/s, the
//     bridge's CPU;
//  2. the worst bodies we can build under the limits: answer size, request time, and the longest
//     event-loop stall seen from outside (a probe hitting /api/public/health every 2 ms).
// Settings (environment): BENCH_SECONDS=10
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startBridge } from './lib/bridge-process.mjs';
import { startSinkProcess } from './lib/otlp-sink.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PUBLIC = 'pk-lf-bench';
const SECRET = 'sk-lf-bench';
const GOOD = `Basic ${Buffer.from(`${PUBLIC}:${SECRET}`).toString('base64')}`;
const WRONG = `Basic ${Buffer.from(`${PUBLIC}:not-the-secret`).toString('base64')}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The built bridge with keys set, plus its CPU time so far (from /proc). */
async function startKeyedBridge(otlpUrl) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-'));
  const bridge = await startBridge({ dataDir, otlpUrl, env: { LANGFUSE_PUBLIC_KEY: PUBLIC, LANGFUSE_SECRET_KEY: SECRET, BRIDGE_TRACE_IDLE_MS: '200' } });
  await bridge.ready();
  return {
    url: bridge.url,
    async stop() {
      await bridge.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
    cpuMillis() {
      const fields = readFileSync(`/proc/${bridge.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in clock ticks of 10 ms
    },
  };
}

/** One POST with node:http; resolves with status, answer bytes and milliseconds; never rejects. */
function post(url, pathname, body, authorization, agent) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(`${url}${pathname}`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', authorization, 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, millis: performance.now() - started }));
    });
    req.on('error', (error) => resolve({ status: -1, error: error.code, bytes: 0, millis: performance.now() - started }));
    req.end(body);
  });
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

let seq = 0;
function legitBatch() {
  const now = new Date().toISOString();
  const batch = [];
  for (let i = 0; i < 5; i++) {
    const n = seq++;
    batch.push({ id: `t-${n}`, type: 'trace-create', timestamp: now, body: { id: `trace-${n}`, name: 'litellm-completion', input: 'hello '.repeat(100) } });
    batch.push({
      id: `g-${n}`,
      type: 'generation-create',
      timestamp: now,
      body: { id: `gen-${n}`, traceId: `trace-${n}`, name: 'litellm-completion', model: 'gpt-4o', startTime: now, endTime: now, input: [{ role: 'user', content: 'hi '.repeat(100) }], output: 'ok', usage: { input: 10, output: 5 } },
    });
  }
  return JSON.stringify({ batch, metadata: { sdk_integration: 'litellm' } });
}

async function legitLatencies(url, seconds) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies = [];
  const statuses = {};
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const answer = await post(url, '/api/public/ingestion', legitBatch(), GOOD, agent);
    statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    latencies.push(answer.millis);
  }
  agent.destroy();
  return { requests: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), statuses };
}

async function flood(url, connections, body, stop) {
  let answered = 0;
  const statuses = {};
  const workers = Array.from({ length: connections }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (!stop.done) {
      const answer = await post(url, '/api/public/ingestion', body, WRONG, agent);
      const key = answer.status === -1 ? answer.error : answer.status;
      statuses[key] = (statuses[key] ?? 0) + 1;
      answered++;
    }
    agent.destroy();
  });
  return { finished: Promise.all(workers), answered: () => answered, statuses };
}

/** Pings health every 2 ms while `work` runs; the longest ping is the stall other clients see. */
async function withStallProbe(url, work) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let longest = 0;
  let running = true;
  const probe = (async () => {
    while (running) {
      const started = performance.now();
      await new Promise((resolve) => {
        const req = request(`${url}/api/public/health`, { agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', resolve);
        req.end();
      });
      longest = Math.max(longest, performance.now() - started);
      await sleep(2);
    }
  })();
  await sleep(50);
  const result = await work();
  running = false;
  await probe;
  agent.destroy();
  return { ...result, longestStallMillis: Math.round(longest) };
}

function worstBodies() {
  const now = new Date().toISOString();
  const filler = (n) => Array.from({ length: n }, () => '1').join(',');
  const tenThousand = (make) => JSON.stringify({ batch: Array.from({ length: 10_000 }, (_, i) => make(i)) });
  return {
    '1,000,000 invalid events (2 MB)': `{"batch":[${filler(1_000_000)}]}`,
    '2,300,000 invalid events (4.5 MB)': `{"batch":[${filler(2_300_000)}]}`,
    '10,000 invalid events, long errors': tenThousand((i) => ({ id: `bad-${i}`, type: 'generation-create', timestamp: 'x', body: { id: 1, traceId: 2, startTime: 3, usage: 'x', level: 9 } })),
    '10,000 unknown-type events': tenThousand((i) => ({ id: `u-${i}`, type: `no-such-type-${i}`, timestamp: now, body: {} })),
    '10,000 valid events (~4 MB)': tenThousand((i) => ({
      id: `v-${seq}-${i}`,
      type: 'span-create',
      timestamp: now,
      body: { id: `s-${seq}-${i}`, traceId: `tr-${seq}-${i % 50}`, name: 'n', startTime: now, endTime: now, input: 'x'.repeat(200) },
    })),
  };
}

// The flood runs in its own process: writing 4 MB bodies would otherwise delay this process's
// legitimate client and the measurement would be the load generator's, not the bridge's.
if (process.argv[2] === 'flood') {
  const [url, seconds] = [process.argv[3], Number(process.argv[4])];
  const fourMb = `{"batch":[${'1,'.repeat(2 * 1024 * 1024 - 1)}1]}`;
  const stop = { done: false };
  const attack = await flood(url, 8, fourMb, stop);
  await sleep(seconds * 1000);
  stop.done = true;
  await attack.finished;
  process.stdout.write(JSON.stringify({ answered: attack.answered(), statuses: attack.statuses }));
  process.exit(0);
}

function floodProcess(url, seconds) {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'flood', url, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
  return new Promise((resolve) => child.once('exit', () => resolve(JSON.parse(out))));
}

const receiver = await startSinkProcess();
const bridge = await startKeyedBridge(receiver.tracesUrl);
try {
  await legitLatencies(bridge.url, 2); // warm-up
  const alone = await legitLatencies(bridge.url, SECONDS);
  console.log(`legitimate alone: ${alone.requests} requests, p50 ${alone.p50.toFixed(1)} ms, p99 ${alone.p99.toFixed(1)} ms, statuses ${JSON.stringify(alone.statuses)}`);

  const cpuBefore = bridge.cpuMillis();
  const started = performance.now();
  const attack = floodProcess(bridge.url, SECONDS + 1);
  await sleep(500);
  const during = await legitLatencies(bridge.url, SECONDS);
  const flooded = await attack;
  const elapsed = (performance.now() - started) / 1000;
  const cpu = (bridge.cpuMillis() - cpuBefore) / 1000 / elapsed;
  console.log(
    `legitimate during a wrong-key flood of 4 MB bodies on 8 connections: ${during.requests} requests, p50 ${during.p50.toFixed(1)} ms, p99 ${during.p99.toFixed(1)} ms, statuses ${JSON.stringify(during.statuses)}; ` +
      `flood ${(flooded.answered / elapsed).toFixed(0)} answers/s ${JSON.stringify(flooded.statuses)}; bridge CPU ${(cpu * 100).toFixed(0)}%`,
  );

  for (const [name, body] of Object.entries(worstBodies())) {
    const agent = new Agent({ keepAlive: false });
    const result = await withStallProbe(bridge.url, () => post(bridge.url, '/api/public/ingestion', body, GOOD, agent));
    console.log(`worst body "${name}" (${(body.length / 1e6).toFixed(2)} MB): status ${result.status}, answer ${result.bytes} bytes, ${result.millis.toFixed(0)} ms, longest stall seen by others ${result.longestStallMillis} ms`);
    await sleep(500);
  }
} finally {
  await bridge.stop();
  await receiver.stop();
}
