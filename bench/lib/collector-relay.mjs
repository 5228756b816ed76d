// The Collector comparison of `npm run bench`: Jaeger v2 (.e2e-cache/bin/jaeger, an OpenTelemetry
// Collector distribution) started with jaeger-relay.yaml (OTLP/HTTP in, batch, OTLP/HTTP out to the
// benchmark's sink), pinned to the bridge's core, and fed the bridge's own output of the same run
// (the protobuf requests the sink kept) by concurrent clients on the load core. Measures spans/s
// from the first request sent until the sink counted every span relayed. Owns no bridge code.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { freePort, hasTaskset, httpRequest, ROOT } from './bridge-process.mjs';

export const JAEGER_BIN = path.join(ROOT, '.e2e-cache', 'bin', 'jaeger');
const CONFIG = path.join(ROOT, 'bench', 'lib', 'jaeger-relay.yaml');

/** Why the comparison cannot run here, or undefined when it can. */
export function relayUnavailable() {
  return existsSync(JAEGER_BIN) ? undefined : `${path.relative(ROOT, JAEGER_BIN)} not found (bash scripts/provision-e2e.sh builds it)`;
}

/**
 * Replays `bodies` (protobuf ExportTraceServiceRequests holding `spans` spans) through the relay to
 * `sink` (reset first) with `concurrency` clients. Resolves { spans, seconds, spansPerSecond, ... }.
 */
export async function relayThroughCollector({ sink, bodies, spans, cpu, concurrency = 4, timeoutMillis = 120_000 }) {
  const port = await freePort();
  const argv = [JAEGER_BIN, '--config', CONFIG];
  const pinned = cpu !== undefined && hasTaskset ? ['taskset', '-c', String(cpu), ...argv] : argv;
  const child = spawn(pinned[0], pinned.slice(1), {
    cwd: ROOT,
    // No OTEL_* from this environment: the relay exports only where the config says.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', RELAY_OTLP_HTTP_PORT: String(port), RELAY_TRACES_URL: sink.tracesUrl },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const url = `http://127.0.0.1:${port}/v1/traces`;
  try {
    // Listening once an empty request is answered.
    const deadline = performance.now() + 30_000;
    for (;;) {
      const res = await httpRequest(url, { method: 'POST', body: Buffer.alloc(0), headers: { 'content-type': 'application/x-protobuf' }, timeoutMillis: 1_000 });
      if (res.status > 0) break;
      if (child.exitCode !== null || performance.now() > deadline) throw new Error(`the Collector did not start: ${stderr.join('').slice(-500)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await sink.reset();
    const started = performance.now();
    let next = 0;
    let failed = 0;
    const client = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const res = await httpRequest(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        if (res.status !== 200) failed++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const sentSeconds = (performance.now() - started) / 1000;
    const end = performance.now() + timeoutMillis;
    let stats;
    for (;;) {
      stats = await sink.stats();
      if (stats.spans >= spans || performance.now() > end) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const complete = stats.spans >= spans;
    return {
      requests: bodies.length,
      megabytes: +(bodies.reduce((sum, b) => sum + b.length, 0) / 1048576).toFixed(1),
      spans,
      relayedSpans: stats.spans,
      failedRequests: failed,
      acceptedSeconds: +sentSeconds.toFixed(2),
      seconds: complete ? +seconds.toFixed(2) : undefined,
      spansPerSecond: complete ? Math.round(spans / seconds) : undefined,
      outRequests: stats.requests,
    };
  } finally {
    child.kill('SIGKILL');
  }
}
