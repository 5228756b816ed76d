/**
 * A real Apache Kafka 4.4 (KRaft: broker and controller in one JVM) for the gateway-mode tests,
 * from the jars scripts/provision-e2e.sh copies into .e2e-cache/kafka/libs. Listens on 127.0.0.1
 * only, on free ports, with its log dir in a temp dir; can be killed (-9) and started again on the
 * same ports and log dir, and is removed by `stop()`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KAFKA_LIBS, REPO_ROOT } from './paths.js';
import { freePorts } from './ports.js';
import { ManagedProcess, baseEnv, runToCompletion } from './process.js';

export interface KafkaBroker {
  /** `127.0.0.1:<port>`: the value of BRIDGE_KAFKA_BROKERS. */
  bootstrap: string;
  /** SIGKILL, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and log dir; resolves when it answers. */
  restart(): Promise<void>;
  /** Stops it and removes its log dir. */
  stop(): Promise<void>;
}

export function assertKafkaProvisioned(): void {
  if (!fs.existsSync(KAFKA_LIBS) || !fs.readdirSync(KAFKA_LIBS).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`Kafka jars not found in ${KAFKA_LIBS}: run \`bash scripts/provision-e2e.sh\` first`);
  }
}

function java(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export async function startKafka(name = 'kafka'): Promise<KafkaBroker> {
  assertKafkaProvisioned();
  const [port, controllerPort] = (await freePorts(2)) as [number, number];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-kafka-'));
  const logDir = path.join(dir, 'data');
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
      `log.dirs=${logDir}`,
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
  const env = baseEnv({ KAFKA_HEAP_OPTS: undefined });
  // A KRaft cluster id is a base64url UUID (22 characters).
  const clusterId = crypto.randomBytes(16).toString('base64url');
  const format = await runToCompletion({
    name: `${name}-format`,
    command: java(),
    args: ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props],
    env,
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  if (format.code !== 0) throw new Error(`kafka storage format failed (${format.code}):\n${format.output}`);

  let proc: ManagedProcess | undefined;
  const launch = async (): Promise<void> => {
    proc = new ManagedProcess({
      name,
      command: java(),
      args: ['-Xmx512m', '-Xms128m', '-XX:+UseSerialGC', '-Dlog4j2.level=WARN', '-cp', classpath, 'kafka.Kafka', props],
      env,
      cwd: dir,
    });
    const started = proc;
    // Ready when the broker's port takes connections and it logged its start.
    await Promise.race([
      (async () => {
        const until = Date.now() + 60_000;
        while (Date.now() < until) {
          if (started.hasExited) throw new Error(`kafka exited while starting:\n${started.tail()}`);
          if (await accepts(port)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`kafka did not listen on ${port} within 60 s:\n${started.tail()}`);
      })(),
    ]);
  };
  await launch();
  return {
    bootstrap: `127.0.0.1:${port}`,
    async kill() {
      await proc?.stop('SIGKILL');
    },
    async restart() {
      await proc?.stop('SIGKILL');
      await launch();
    },
    async stop() {
      await proc?.stop('SIGTERM', 10_000);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
