// A real Apache Kafka 4.4 (KRaft: broker and controller in one JVM, -Xmx512m) from the jars that
// scripts/provision-e2e.sh copies into .e2e-cache/kafka/libs (tools/kafka/pom.xml). Listens on
// 127.0.0.1 only, on free ports, with its log dir in a temp dir; can be killed (-9) and started
// again on the same ports and log dir; `stop()` removes it. Used by the gateway e2e tests
// (test/e2e/helpers/kafka.ts) and by `npm run bench:gateway`.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KAFKA_LIBS = path.join(process.env.E2E_CACHE_DIR ?? path.join(ROOT, '.e2e-cache'), 'kafka', 'libs');

export function kafkaProvisioned() {
  return fs.existsSync(KAFKA_LIBS) && fs.readdirSync(KAFKA_LIBS).some((f) => f.startsWith('kafka_2.13-'));
}

const java = () => (process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java');

async function freePorts(n) {
  const servers = [];
  try {
    const ports = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      ports.push(srv.address().port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Formats a KRaft log dir and starts the broker. `logFile`: where its output goes (default: a
 * file in its temp dir). Resolves once it takes connections.
 */
export async function startKafkaBroker({ logFile } = {}) {
  if (!kafkaProvisioned()) throw new Error(`Kafka jars not found in ${KAFKA_LIBS}: run \`bash scripts/provision-e2e.sh\` first`);
  const [port, controllerPort] = await freePorts(2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-kafka-'));
  const props = path.join(dir, 'server.properties');
  fs.writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
      `log.dirs=${path.join(dir, 'data')}`,
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      // A member that joins is assigned at once (the default waits 3 s for more members).
      'group.initial.rebalance.delay.ms=0',
      'auto.create.topics.enable=false',
      '',
    ].join('\n'),
  );
  const classpath = `${KAFKA_LIBS}/*`;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? dir, ...(process.env.JAVA_HOME ? { JAVA_HOME: process.env.JAVA_HOME } : {}) };
  // A KRaft cluster id is a base64url UUID (22 characters).
  const format = spawnSync(java(), ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', crypto.randomBytes(16).toString('base64url'), '-c', props], { env, encoding: 'utf8', timeout: 60_000 });
  if (format.status !== 0) throw new Error(`kafka storage format failed (${format.status}):\n${format.stdout}${format.stderr}`);
  const out = logFile ?? path.join(dir, 'kafka.log');
  let child;
  let exited;
  const launch = async () => {
    const log = fs.openSync(out, 'a');
    child = spawn(java(), ['-Xmx512m', '-Xms128m', '-XX:+UseSerialGC', '-cp', classpath, 'kafka.Kafka', props], { env, cwd: dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    exited = new Promise((resolve) => child.once('exit', resolve));
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      if (child.exitCode !== null) throw new Error(`kafka exited while starting; see ${out}`);
      if (await accepts(port)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kafka did not listen on ${port} within 60 s; see ${out}`);
  };
  const kill = async (signal) => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  };
  process.once('exit', () => child?.kill('SIGKILL'));
  await launch();
  return {
    bootstrap: `127.0.0.1:${port}`,
    pid: () => child.pid,
    logFile: out,
    kill: () => kill('SIGKILL'),
    async restart() {
      await kill('SIGKILL');
      await launch();
    },
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
