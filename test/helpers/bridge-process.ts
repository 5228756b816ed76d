// Runs the built bridge (`node dist/main.js`, built by test/helpers/build-once.ts) as a child
// process on 127.0.0.1, port 0, for the durability tests: finds its URL from the `listening` log
// line, keeps its JSON log lines, samples its memory from /proc, and kills it (SIGKILL/SIGTERM).
// Every process started here is remembered; a test's afterEach calls stopAllBridges().
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');

export interface BridgeLog {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface BridgeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BridgeMemory {
  /** Resident set now (VmRSS), in kB. */
  rssKb: number;
  /** Peak resident set of the process so far (VmHWM), in kB. */
  hwmKb: number;
}

export interface BridgeOptions {
  dataDir: string;
  /** The traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  collectorUrl: string;
  /** More settings; they win over the defaults below. */
  env?: Record<string, string>;
}

export interface SpawnedBridge {
  pid: number;
  /** Resolves with the base URL (`http://127.0.0.1:<port>`) from the `listening` log line. */
  listening: Promise<string>;
  /** Resolves once the store is replayed and ingestion is open (the `ready` log line). */
  ready: Promise<Record<string, unknown>>;
  exited: Promise<BridgeExit>;
  logs: BridgeLog[];
  stderr(): string;
  isRunning(): boolean;
  signal(signal: NodeJS.Signals): void;
  /** SIGKILL (kill -9), then waits for the exit. */
  kill9(): Promise<BridgeExit>;
  /** VmRSS and VmHWM from /proc; undefined once the process is gone. */
  memory(): BridgeMemory | undefined;
  /** Largest VmHWM read so far (sampled every 25 ms while it runs), in kB. */
  peakRssKb(): number;
  /** Resolves with the first log line (already seen or to come) that matches, or rejects on exit/timeout. */
  waitForLog(match: (log: BridgeLog) => boolean, timeoutMillis?: number): Promise<BridgeLog>;
}

export interface RunningBridge extends SpawnedBridge {
  url: string;
}

const started = new Set<SpawnedBridge>();

/** The environment every test bridge gets: loopback, an ephemeral port, SQLite in `dataDir`. */
export function bridgeEnv(options: BridgeOptions): Record<string, string> {
  return {
    // Only what node needs from the parent: no OTEL_*, LANGFUSE_* or BRIDGE_* leaks in from CI.
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    BRIDGE_HOST: '127.0.0.1',
    BRIDGE_PORT: '0',
    BRIDGE_DATA_DIR: options.dataDir,
    BRIDGE_STORE: 'sqlite',
    BRIDGE_TRACE_IDLE_MS: '200',
    // The fake collectors count trace requests only.
    BRIDGE_METRICS: 'false',
    BRIDGE_LOG_LEVEL: 'info',
    BRIDGE_SHUTDOWN_TIMEOUT_MS: '2000',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: options.collectorUrl,
    OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
    ...options.env,
  };
}

/** Starts the process and returns at once (use `listening` to wait for it, or kill it first). */
export function spawnBridge(options: BridgeOptions): SpawnedBridge {
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: bridgeEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('could not spawn node dist/main.js');
  const pid = child.pid;
  const logs: BridgeLog[] = [];
  const waiters = new Set<{ match: (log: BridgeLog) => boolean; resolve: (log: BridgeLog) => void }>();
  let stderr = '';
  let running = true;
  let peakKb = 0;

  const exited = new Promise<BridgeExit>((resolve) => {
    // 'close', not 'exit': 'exit' may come before the last stdout/stderr chunks are read, and the
    // logs read after it must be complete.
    child.once('close', (code, signal) => {
      running = false;
      clearInterval(sampler);
      resolve({ code, signal });
    });
  });

  let pending = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      let log: BridgeLog;
      try {
        log = JSON.parse(line) as BridgeLog;
      } catch {
        log = { level: 0, msg: line };
      }
      if (logs.length < 50_000) logs.push(log);
      for (const waiter of waiters) {
        if (waiter.match(log)) {
          waiters.delete(waiter);
          waiter.resolve(log);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    if (stderr.length < 100_000) stderr += chunk;
  });

  const memory = (): BridgeMemory | undefined => {
    if (!running) return undefined;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const rss = /VmRSS:\s+(\d+)/.exec(status);
      const hwm = /VmHWM:\s+(\d+)/.exec(status);
      if (!rss || !hwm) return undefined;
      const result = { rssKb: Number(rss[1]), hwmKb: Number(hwm[1]) };
      peakKb = Math.max(peakKb, result.hwmKb);
      return result;
    } catch {
      return undefined;
    }
  };
  const sampler = setInterval(memory, 25);
  sampler.unref();

  const waitForLog = (match: (log: BridgeLog) => boolean, timeoutMillis = 15_000): Promise<BridgeLog> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<BridgeLog>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (log: BridgeLog) => {
          clearTimeout(timer);
          resolve(log);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`bridge ${pid}: no matching log line within ${timeoutMillis} ms; stderr: ${stderr.slice(0, 2000)}`));
      }, timeoutMillis);
      waiters.add(waiter);
      void exited.then((exit) => {
        if (!waiters.has(waiter)) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`bridge ${pid} exited (${exit.code ?? exit.signal}) before the log line; stderr: ${stderr.slice(0, 2000)}`));
      });
    });
  };

  const bridge: SpawnedBridge = {
    pid,
    listening: waitForLog((log) => log.msg === 'listening').then((log) => String(log['url'])),
    ready: waitForLog((log) => log.msg === 'ready'),
    exited,
    logs,
    stderr: () => stderr,
    isRunning: () => running,
    signal(signal) {
      if (running) child.kill(signal);
    },
    async kill9() {
      if (running) child.kill('SIGKILL');
      return exited;
    },
    memory,
    peakRssKb: () => {
      memory();
      return peakKb;
    },
    waitForLog,
  };
  // A caller that kills the bridge before it listens must not see an unhandled rejection.
  bridge.listening.catch(() => undefined);
  bridge.ready.catch(() => undefined);
  started.add(bridge);
  void exited.then(() => started.delete(bridge));
  return bridge;
}

/** Starts the bridge and waits until it listens. */
export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const bridge = spawnBridge(options);
  try {
    const url = await bridge.listening;
    await bridge.ready;
    return Object.assign(bridge, { url });
  } catch (error) {
    await bridge.kill9();
    throw error;
  }
}

/** SIGKILLs every bridge still running (afterEach): a failing test leaves no process behind. */
export async function stopAllBridges(): Promise<void> {
  await Promise.all([...started].map((bridge) => bridge.kill9()));
}

/** SIGTERM, then waits for the exit; SIGKILL after `timeoutMillis`. */
export async function stopBridge(bridge: SpawnedBridge, timeoutMillis = 10_000): Promise<BridgeExit> {
  bridge.signal('SIGTERM');
  const timer = setTimeout(() => bridge.signal('SIGKILL'), timeoutMillis);
  try {
    return await bridge.exited;
  } finally {
    clearTimeout(timer);
  }
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/main.js <args>` (e.g. `dead-letters list`) with the test environment; waits for it. */
export function runBridgeCommand(options: BridgeOptions, args: string[], timeoutMillis = 20_000): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env: bridgeEnv(options), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node dist/main.js ${args.join(' ')} took longer than ${timeoutMillis} ms`));
    }, timeoutMillis);
    // 'close', not 'exit': 'exit' may come before the last stdout/stderr chunks are read.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
