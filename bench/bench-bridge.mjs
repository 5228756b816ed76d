// The benches' shared parts: the built bridge (`node dist/main.js`, SQLite in a temporary
// directory, loopback, an ephemeral port) as a child process, and a no-op OTLP/HTTP receiver.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A no-op OTLP receiver: reads each request, answers 200 (or 503 while `down`). */
export async function startReceiver() {
  const state = { requests: 0, bytes: 0, down: false };
  const server = createServer((req, res) => {
    req.on('data', (chunk) => (state.bytes += chunk.length));
    req.on('end', () => {
      state.requests++;
      if (state.down) {
        res.writeHead(503, { 'Retry-After': '1' });
        res.end();
      } else {
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/v1/traces`, state, close: () => new Promise((r) => server.close(r)) };
}

export function startBridge(receiverUrl, env = {}) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      BRIDGE_HOST: '127.0.0.1',
      BRIDGE_PORT: '0',
      BRIDGE_DATA_DIR: dataDir,
      BRIDGE_STORE: 'sqlite',
      BRIDGE_TRACE_IDLE_MS: '200',
      // info: the `listening` line carries the port; nothing is logged per request at this level.
      BRIDGE_LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiverUrl,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let peakKb = 0;
  const memory = () => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peakKb = Math.max(peakKb, hwm);
      return { rssKb: rss, hwmKb: hwm };
    } catch {
      return undefined;
    }
  };
  const sampler = setInterval(memory, 50);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        try {
          const log = JSON.parse(line);
          if (log.msg === 'listening') resolve(log.url);
        } catch {
          // not JSON
        }
      }
    });
    void exited.then((exit) => reject(new Error(`bridge exited before listening: ${JSON.stringify(exit)}`)));
  });
  return {
    pid: child.pid,
    listening,
    memory,
    peakKb: () => (memory(), peakKb),
    async stop() {
      clearInterval(sampler);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const exit = await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      return exit;
    },
  };
}
