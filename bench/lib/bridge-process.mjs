// The built bridge (`node dist/main.js`) as a separate process for the benchmarks: pinned to a
// core with taskset when it exists, optionally inside a memory limit, on a port chosen up front
// (so health can be polled from the first millisecond), with its memory read from /proc. Also the
// CPU pinning of the benchmark process itself, and small HTTP helpers. Owns no bridge code.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, Agent, request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Bridge core and load core: the bridge on `bridgeCpu`, this process (and the children it starts
 * later, such as the OTLP sink) on `loadCpu`. Returns what was done, for the report.
 */
export function pinCores(bridgeCpu, loadCpu) {
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  if (!hasTaskset) return { pinned: false, note: 'taskset not found: nothing pinned' };
  if (cpus < 2) return { pinned: false, note: `${cpus} CPU: nothing pinned` };
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(loadCpu), String(process.pid)], { stdio: 'ignore' });
  if (result.status !== 0) return { pinned: false, note: 'taskset failed: nothing pinned' };
  return { pinned: true, bridgeCpu, loadCpu, note: `bridge on CPU ${bridgeCpu}, load generator and OTLP sink on CPU ${loadCpu}` };
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A port nobody listens on (a backend that refuses connections). */
export const closedPortUrl = async () => `http://127.0.0.1:${await freePort()}/v1/traces`;

export function processMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rssKb: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0), hwmKb: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc/<pid>/stat's times (`getconf CLK_TCK`; 100 on Linux unless told otherwise). */
const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * CPU seconds the process has used so far, user plus system (utime + stime of /proc/<pid>/stat, all
 * its threads: V8's GC helpers and libuv's pool included); undefined when it cannot be read.
 * Resolution: one clock tick (10 ms).
 */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Bytes under `dir` (the store on disk). */
export function diskBytes(dir) {
  let total = 0;
  try {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      const stat = statSync(file);
      total += stat.isDirectory() ? diskBytes(file) : stat.size;
    }
  } catch {
    // gone
  }
  return total;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One HTTP request on a keep-alive connection; never rejects. A reused connection the server
 * closed as idle just as it was picked (ECONNRESET) is retried (up to 3 times), as Node's
 * documentation advises; ingestion is idempotent (envelope ids), so a resend is safe.
 */
export function httpRequest(url, { method = 'GET', body, headers = {}, timeoutMillis = 30_000 } = {}, retries = 0) {
  return new Promise((resolve) => {
    const req = request(url, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } : headers, timeout: timeoutMillis }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => resolve({ status: 0, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => {
      if (req.reusedSocket && error.code === 'ECONNRESET' && retries < 3) resolve(httpRequest(url, { method, body, headers, timeoutMillis }, retries + 1));
      else resolve({ status: 0, error: error.message });
    });
    req.end(body);
  });
}

/** The bridge's gauges and a few counters from /metrics, by name (undefined when not answering). */
export async function bridgeMetrics(baseUrl) {
  const res = await httpRequest(`${baseUrl}/metrics`, { timeoutMillis: 5_000 });
  if (res.status !== 200) return undefined;
  const values = {};
  for (const line of res.text.split('\n')) {
    const match = /^(bridge_[a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (match) values[match[1]] = (values[match[1]] ?? 0) + Number(match[2]);
  }
  return values;
}

/**
 * The bridge's runtime figures: CPU seconds from /proc (`bridge.cpuSeconds()`, all threads), and
 * from its /metrics (prom-client's default metrics) GC seconds by kind and the event-loop delay
 * since the previous scrape (prom-client resets that histogram on each scrape, so a scrape before
 * a run starts its window). `bridge`: from startBridge.
 */
export async function runtimeFigures(bridge) {
  const cpuSeconds = bridge.cpuSeconds();
  const res = await httpRequest(`${bridge.url}/metrics`, { timeoutMillis: 5_000 });
  if (res.status !== 200 || cpuSeconds === undefined) return undefined;
  const figures = { cpuSeconds, gcSeconds: {}, gcCount: {}, gcUpTo10Ms: {}, eventLoopP99Ms: undefined, eventLoopMaxMs: undefined };
  for (const line of res.text.split('\n')) {
    const gc = /^bridge_nodejs_gc_duration_seconds_sum\{kind="(\w+)"\} ([0-9.e+-]+)$/.exec(line);
    if (gc) figures.gcSeconds[gc[1]] = Number(gc[2]);
    const count = /^bridge_nodejs_gc_duration_seconds_count\{kind="(\w+)"\} ([0-9.e+-]+)$/.exec(line);
    if (count) figures.gcCount[count[1]] = Number(count[2]);
    // prom-client's GC histogram has a bucket at 10 ms: what is above it is a pause a request feels.
    const upTo10 = /^bridge_nodejs_gc_duration_seconds_bucket\{le="0\.01",kind="(\w+)"\} ([0-9.e+-]+)$/.exec(line);
    if (upTo10) figures.gcUpTo10Ms[upTo10[1]] = Number(upTo10[2]);
    const value = /^bridge_(nodejs_eventloop_lag_p99_seconds|nodejs_eventloop_lag_max_seconds) ([0-9.e+-]+)$/.exec(line);
    if (!value) continue;
    if (value[1] === 'nodejs_eventloop_lag_p99_seconds') figures.eventLoopP99Ms = +(Number(value[2]) * 1000).toFixed(2);
    else figures.eventLoopMaxMs = +(Number(value[2]) * 1000).toFixed(2);
  }
  return figures;
}

/** What the bridge spent between two `runtimeFigures` scrapes, per event. */
export function runtimeBetween(before, after, events) {
  if (!before || !after) return undefined;
  const gc = (kind) => +(((after.gcSeconds[kind] ?? 0) - (before.gcSeconds[kind] ?? 0)) * 1000).toFixed(0);
  const kinds = Object.keys(after.gcSeconds);
  const gcMillis = Object.fromEntries(kinds.map((k) => [k, gc(k)]));
  return {
    cpuSeconds: +(after.cpuSeconds - before.cpuSeconds).toFixed(2),
    cpuMicrosPerEvent: +(((after.cpuSeconds - before.cpuSeconds) * 1e6) / Math.max(1, events)).toFixed(1),
    gcMillis: { total: kinds.reduce((sum, k) => sum + gcMillis[k], 0), ...gcMillis },
    gcPauses: Object.fromEntries(
      kinds.map((k) => {
        const count = (after.gcCount[k] ?? 0) - (before.gcCount[k] ?? 0);
        return [k, { count, over10Ms: count - ((after.gcUpTo10Ms[k] ?? 0) - (before.gcUpTo10Ms[k] ?? 0)) }];
      }),
    ),
    eventLoopDelayMs: { p99: after.eventLoopP99Ms, max: after.eventLoopMaxMs },
  };
}

/**
 * Starts `node dist/main.js` with the SQLite store in `dataDir`. `cpu`: core to pin to (taskset);
 * `limit`: from createMemoryLimit; `env`: extra settings (strings); `cpuProfileDir`: node --cpu-prof there;
 * `nodeFlags`: more flags for node (V8 flags cannot be given through NODE_OPTIONS).
 */
export async function startBridge({ dataDir, otlpUrl, env = {}, cpu, limit, logLevel = 'info', cpuProfileDir, nodeFlags = [] }) {
  const port = await freePort();
  // A CPU profile (written at exit) cannot be asked for through NODE_OPTIONS.
  const profile = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const base = [process.execPath, ...profile, ...nodeFlags, path.join(ROOT, 'dist', 'main.js')];
  const pinned = cpu !== undefined && hasTaskset ? ['taskset', '-c', String(cpu), ...base] : base;
  const argv = limit ? limit.wrap(pinned) : pinned;
  const startedAt = performance.now();
  const child = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      BRIDGE_HOST: '127.0.0.1',
      BRIDGE_PORT: String(port),
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_STORE: 'sqlite',
      BRIDGE_LOG_LEVEL: logLevel,
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail = [];
  const events = { listeningLogMillis: undefined, heapOutOfMemory: false };
  const keep = (line) => {
    if (line.includes('heap out of memory')) events.heapOutOfMemory = true;
    tail.push(line);
    if (tail.length > 20) tail.shift();
  };
  let buffer = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      keep(line);
      if (events.listeningLogMillis === undefined && line.includes('"msg":"listening"')) events.listeningLogMillis = performance.now() - startedAt;
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => chunk.split('\n').filter(Boolean).forEach(keep));
  let exit;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exit = { code, signal }))));
  let peakKb = 0;
  const memory = () => {
    const m = processMemory(child.pid);
    if (m) peakKb = Math.max(peakKb, m.hwmKb, m.rssKb);
    return m;
  };
  const sampler = setInterval(memory, 50);
  const url = `http://127.0.0.1:${port}`;
  const bridge = {
    url,
    pid: child.pid,
    startedAt,
    events,
    tail,
    exited,
    get exit() {
      return exit;
    },
    memory,
    /** CPU seconds the bridge used so far (taskset execs node, so the pid is node's). */
    cpuSeconds: () => processCpuSeconds(child.pid),
    peakRssMb: () => (memory(), peakKb / 1024),
    /**
     * Polls until `pathname` answers `status` (or any answer when status is 0); resolves the
     * milliseconds since spawn, or undefined when the process exited or `timeoutMillis` passed.
     */
    async waitFor(pathname, status, timeoutMillis = 120_000, intervalMillis = 20) {
      const deadline = performance.now() + timeoutMillis;
      while (!exit && performance.now() < deadline) {
        const res = await httpRequest(`${url}${pathname}`, { timeoutMillis: 2_000 });
        if (status === 0 ? res.status > 0 : res.status === status) return performance.now() - startedAt;
        await new Promise((resolve) => setTimeout(resolve, intervalMillis));
      }
      return undefined;
    },
    async ready(timeoutMillis = 60_000) {
      const at = await bridge.waitFor('/api/public/ready', 200, timeoutMillis);
      if (at === undefined) throw new Error(`bridge not ready within ${timeoutMillis} ms (exit ${JSON.stringify(exit)}): ${tail.slice(-5).join('\n')}`);
      return at;
    },
    /** SIGTERM (SIGKILL after `graceMillis`) or SIGKILL; resolves the exit. */
    async stop(signal = 'SIGTERM', graceMillis = 20_000) {
      clearInterval(sampler);
      if (!exit) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMillis);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  void exited.then(() => clearInterval(sampler));
  return bridge;
}
