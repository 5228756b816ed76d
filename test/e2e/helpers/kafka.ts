/**
 * A real Apache Kafka 4.4 for the gateway-mode tests (bench/lib/kafka-broker.mjs: KRaft broker and
 * controller in one JVM on 127.0.0.1, free ports, a temp log dir; killable and restartable on the
 * same ports and log dir). Its output goes to .e2e-cache/logs/<name>.log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startKafkaBroker, type KafkaBrokerProcess } from '../../../bench/lib/kafka-broker.mjs';
import { LOG_DIR } from './paths.js';

export type KafkaBroker = KafkaBrokerProcess;

export function startKafka(name = 'kafka'): Promise<KafkaBroker> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  return startKafkaBroker({ logFile: path.join(LOG_DIR, `${name}-${process.pid}.log`) });
}
