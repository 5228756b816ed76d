#!/usr/bin/env node
// The process: reads the environment, listens, handles signals, exits. Nothing else does.
// `langfuse-otel-bridge` (serve), `langfuse-otel-bridge dead-letters [list|retry]`, `store check`; the
// offline commands live in src/cli/, one file each, dispatched here.
import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runCheckMapping } from './cli/check-mapping.js';
import { runConvert } from './cli/convert.js';
import { listDeadLetters as listDeadLetterLines, retryDeadLetters as resendDeadLetters } from './cli/dead-letters.js';
import { runStoreCheck } from './cli/store-check.js';
import { ConfigError, describeSettings, loadServiceConfig, type HostFacts, type ServiceConfig } from './config/service-config.js';
import { createLogger, type Logger } from './logger.js';
import { MappingError } from './mapping/load-mapping.js';
import { configureHttpServer } from './receiver/http-server.js';
import { createGatewayService } from './gateway-service.js';
import { createKafka } from './gateway/kafka-client.js';
import { readKafkaDeadLetters } from './gateway/kafka-dead-letters.js';
import { createDestinations, createService, openStore } from './service.js';
import { acquireDataDirLock, DataDirLockedError, DataDirUnusableError, type DataDirLock } from './spool/data-dir-lock.js';
import { StoreDamagedError } from './spool/open-database.js';
import { BRIDGE_VERSION } from './version.js';

const USAGE = `langfuse-otel-bridge ${BRIDGE_VERSION}

Usage:
  langfuse-otel-bridge [serve]              run the bridge (settings from the environment)
  langfuse-otel-bridge dead-letters list    show spans the backend refused for good
  langfuse-otel-bridge dead-letters retry   send them again (kept when the backend still refuses)
  langfuse-otel-bridge store check          what the store holds and whether it is sound (exit 1 if not)
  langfuse-otel-bridge convert <batch.json|-> [--mapping NAME|FILE] [--format otlp-json|tree]
                                            print what the bridge would export, offline
  langfuse-otel-bridge check-mapping <file> validate a mapping file
  langfuse-otel-bridge <command> --help
  langfuse-otel-bridge --help | --version

Settings (environment variable = default):
${describeSettings()
  .map((s) => `  ${s.env}=${s.default}`)
  .join('\n')}
`;

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command = 'serve', sub] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === '--version') {
    process.stdout.write(`${BRIDGE_VERSION}\n`);
    return 0;
  }
  // Offline commands: no settings, no store, no network.
  const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd() };
  if (command === 'convert') return runConvert(argv.slice(1), io);
  if (command === 'check-mapping') return runCheckMapping(argv.slice(1), io);
  let config: ServiceConfig;
  try {
    config = loadServiceConfig(env, {}, readHostFacts());
  } catch (error) {
    return startupFailure(error);
  }
  const logger = createLogger(config.logLevel);
  // Settings the bridge corrected (e.g. a metrics timeout above its interval): said once, at start.
  for (const warning of config.warnings) logger.warn(warning);
  if (command === 'serve') return serve(config, logger);
  if (command === 'store' && sub === 'check') return runStoreCheck(config.dataDir, process.stdout, process.stderr);
  try {
    if (command === 'dead-letters' && (sub === 'list' || sub === undefined)) return await listDeadLetters(config, logger);
    if (command === 'dead-letters' && sub === 'retry') return await retryDeadLetters(config, logger);
  } catch (error) {
    return startupFailure(error);
  }
  process.stderr.write(`unknown command: ${argv.join(' ')}\n\n${USAGE}`);
  return 2;
}

function startupFailure(error: unknown): number {
  if (error instanceof ConfigError || error instanceof MappingError || error instanceof StoreDamagedError || error instanceof DataDirLockedError || error instanceof DataDirUnusableError) {
    process.stderr.write(`langfuse-otel-bridge: ${error.message}\n`);
    return 1;
  }
  throw error;
}

/**
 * V8 grows the old generation by up to 4× its live size after each full collection when the heap
 * is allocated fast, and the bridge allocates fast: under a 200,000-event burst the live set
 * stayed near 35 MB while the heap grew to 150 MB and ~65 MB of ArrayBuffers waited for the next
 * full collection. BRIDGE_HEAP_GROWING_PERCENT bounds that (V8 reads it at each full collection,
 * so setting it at start works; a `--heap-growing-percent` given to node wins). Measured (npm run
 * bench, one core; bench/README.md): V8's own choice 287 MB burst peak RSS, p99 of the 207 at
 * 5,000 events/s 20.7 ms, 97 µs CPU/event; 100: 214 MB, 28.5 ms, 112 µs; 70: 188 MB, 35.4 ms,
 * 117 µs; 50: 183–188 MB, 38–49 ms, 115–123 µs. More frequent full collections cost CPU (their
 * concurrent marking shares the core) and pauses: a trade of memory for throughput and latency.
 */
function boundHeapGrowth(percent: number): void {
  if (percent === 0) return;
  if (process.execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent'))) return;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

async function serve(config: ServiceConfig, logger: Logger): Promise<number> {
  boundHeapGrowth(config.heapGrowingPercent);
  let service;
  // One process per data directory; the OS drops the lock when this process ends, however it ends.
  let lock: DataDirLock | undefined;
  try {
    // Gateway mode keeps nothing on disk: the Kafka topic is the log.
    if (config.kafka) service = createGatewayService(config, { logger, defaultMetrics: true });
    else {
      if (config.store === 'sqlite') lock = acquireDataDirLock(config.dataDir);
      service = createService(config, { logger, defaultMetrics: true });
    }
  } catch (error) {
    lock?.release();
    return startupFailure(error);
  }
  if (config.tenancy.mode === 'open') {
    logger.warn('LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not set: every caller is accepted');
  }
  const server = await new Promise<Server>((resolve, reject) => {
    const s = service.app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  }).catch((error: unknown) => {
    logger.fatal({ err: error }, 'could not listen');
    return undefined;
  });
  if (!server) {
    await service.shutdown();
    return 1;
  }
  configureHttpServer(server, { maxConnections: config.maxConnections, logger });
  // Health answers from here on; ready and ingestion wait for the replay.
  const replayed = service.start();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  logger.info(
    {
      url: `http://${shownHost}:${port}`,
      version: BRIDGE_VERSION,
      store: config.kafka ? `kafka ${config.kafka.topic}` : config.store,
      dataDir: config.store === 'sqlite' ? config.dataDir : undefined,
      mapping: config.mapping,
      otlp: { url: config.otlp.url, protocol: config.otlp.protocol },
      auth: config.tenancy.mode === 'open' ? 'open' : 'basic',
      tenants: config.tenancy.mode === 'multi' ? config.tenancy.tenants.map((t) => t.name) : undefined,
      memoryLimitMib: Math.round(config.memoryLimitBytes / 2 ** 20),
    },
    'listening',
  );
  const startedAt = performance.now();
  void replayed.then(
    (entries) =>
      logger.info({ replayedEntries: entries, queuedSpans: service.store.queue.queuedItems(), replayMillis: Math.round(performance.now() - startedAt) }, 'ready'),
    (error: unknown) => logger.error({ err: error }, 'replay failed'),
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: no new batches; exporting what is ready');
      // Requests in flight finish; idle keep-alive connections close now.
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      void service
        .shutdown({ requestsDone: closed })
        .then((complete) => {
          logger.info({ complete, spoolEntries: service.store.log.pendingEntries() }, complete ? 'stopped; nothing left behind' : 'stopped; the rest stays in the store');
          resolve(0);
        })
        .catch((error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        });
      // Requests that do not finish within the shutdown budget are cut.
      setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMillis).unref();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function listDeadLetters(config: ServiceConfig, logger: Logger): Promise<number> {
  if (config.kafka) {
    // Gateway mode: the letters are in the `<topic>-dead-letters` topic, not in a local store.
    const count = await readKafkaDeadLetters(createKafka(config.kafka, logger), config.kafka.deadLetterTopic, (line) => void process.stdout.write(`${JSON.stringify(line)}\n`));
    process.stderr.write(`${count} dead letter(s) in ${config.kafka.deadLetterTopic}\n`);
    return 0;
  }
  // A command never sets a damaged store aside, whatever BRIDGE_STORE_ON_CORRUPT says: only serve does.
  const store = openStore(config, { onCorrupt: 'refuse' });
  try {
    const count = listDeadLetterLines(store.queue, (line) => void process.stdout.write(line));
    process.stderr.write(`${count} dead letter(s)\n`);
    return 0;
  } finally {
    store.close();
  }
}

async function retryDeadLetters(config: ServiceConfig, logger: Logger): Promise<number> {
  if (config.kafka) {
    process.stderr.write(`dead-letters retry is not available in gateway mode: \`dead-letters list\` lists the letters of ${config.kafka.deadLetterTopic} (see the README, "Scale out")\n`);
    return 2;
  }
  // A command never sets a damaged store aside, whatever BRIDGE_STORE_ON_CORRUPT says: only serve does.
  const store = openStore(config, { onCorrupt: 'refuse' });
  try {
    const built = createDestinations(config, { writeConsole: (text) => void process.stdout.write(text) });
    try {
      return (await resendDeadLetters(store.queue, built, logger)) === 0 ? 0 : 1;
    } finally {
      await Promise.all(built.destinations.map((d) => d.shutdown()));
    }
  } finally {
    store.close();
  }
}

/** The memory limit of this process's cgroup (v1 or v2), when it has one. */
function readHostFacts(): HostFacts {
  // Node reports the cgroup limit (or 0, or a huge number, when there is none).
  const limit = process.constrainedMemory?.() ?? 0;
  return limit > 0 && limit < 2 ** 50 ? { cgroupMemoryLimitBytes: limit } : {};
}

/** How long an exit waits for stdout and stderr to drain (a reader that stopped reading must not hold it). */
const FLUSH_BEFORE_EXIT_MILLIS = 5_000;

/**
 * Exits once what was written to stdout and stderr has been handed to the OS. On Node 24 a pipe
 * from a parent's `spawn` is written asynchronously, and `process.exit` right after a burst of
 * writes dropped the tail: `dead-letters list` printed 172 of 200 letters. A write's callback runs
 * after every earlier write on that stream, so an empty write marks the end.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  setTimeout(() => process.exit(code), FLUSH_BEFORE_EXIT_MILLIS).unref();
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(process.argv.slice(2), process.env).then(
  (code) => exitAfterFlush(code),
  (error: unknown) => {
    process.stderr.write(`langfuse-otel-bridge: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    exitAfterFlush(1);
  },
);
