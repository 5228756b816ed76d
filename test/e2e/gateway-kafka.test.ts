/**
 * Gateway mode on a real Kafka 4.4 broker: bridge replicas (real processes with
 * BRIDGE_KAFKA_BROKERS) behind a round-robin client, traces split across requests as the SDKs
 * split them; a fake OTLP collector records what is exported.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCollector, type FakeCollector } from '../helpers/fake-collector.js';
import { stopAllBridges } from '../helpers/bridge-process.js';
import { startKafka, type KafkaBroker } from './helpers/kafka.js';
import { checkExports, postBatch, splitTrace, startReplica, waitForStableGroup, waitUntil } from './helpers/gateway.js';

let broker: KafkaBroker;
let collector: FakeCollector;
let topicSeq = 0;
const topic = () => `gw-${process.pid}-${++topicSeq}`;

beforeAll(async () => {
  broker = await startKafka('kafka-gateway');
}, 120_000);
afterAll(async () => {
  await broker?.stop();
});
afterEach(async () => {
  await stopAllBridges();
  await collector?.close();
});

describe('gateway mode', () => {
  it('two replicas, 300 traces split across requests round-robin: every generation once and whole, one root per trace', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const a = await startReplica(options);
    const b = await startReplica(options);
    await waitForStableGroup([a, b], 8);
    const replicas = [a.url, b.url];
    const traces = Array.from({ length: 300 }, (_, i) => splitTrace('two', i, Date.now() - 60_000));
    let next = 0;
    const answers = [];
    // 20 clients at a time, each request to the next replica.
    for (let i = 0; i < traces.length; i += 20) {
      const slice = traces.slice(i, i + 20);
      answers.push(...(await Promise.all(slice.map((t) => postBatch(replicas[next++ % 2]!, t.first)))));
      answers.push(...(await Promise.all(slice.map((t) => postBatch(replicas[next++ % 2]!, t.second)))));
    }
    expect(answers.filter((x) => x.status !== 207)).toEqual([]);
    await waitUntil(() => checkExports(collector.spans(), traces).tracesWithOneRoot >= 300, 60_000, 'every root');
    await new Promise((r) => setTimeout(r, 2000));
    const result = checkExports(collector.spans(), traces);
    expect(result).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 300, tracesWithOneRoot: 300, tracesWithManyRoots: 0 });
    expect(collector.spans()).toHaveLength(600);
  }, 180_000);
});
