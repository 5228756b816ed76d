/**
 * Gateway mode on a real Kafka 4.4 broker: bridge replicas (real processes with
 * BRIDGE_KAFKA_BROKERS) behind a round-robin client, traces split across requests as the SDKs
 * split them; a fake OTLP collector records what is exported.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeCollector, type FakeCollector } from '../helpers/fake-collector.js';
import { runBridgeCommand, stopAllBridges, stopBridge } from '../helpers/bridge-process.js';
import { startKafka, type KafkaBroker } from './helpers/kafka.js';
import { checkExports, ownership, partitionOf, postBatch, replicaOptions, sendRoundRobin, splitTrace, startReplica, waitForStableGroup, waitUntil } from './helpers/gateway.js';

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

describe('gateway mode, failures', () => {
  it('kill -9 of one of three replicas mid-traffic: every acknowledged generation exported whole; any second copy identical', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const replicas = [await startReplica(options), await startReplica(options), await startReplica(options)];
    await waitForStableGroup(replicas, 8);
    const traces = Array.from({ length: 300 }, (_, i) => splitTrace('kill', i, Date.now() - 60_000));
    let killedAt = 0;
    const sending = sendRoundRobin(() => replicas.filter((r) => r.isRunning()).map((r) => r.url), traces, { concurrency: 10, pauseMillis: 30 });
    // Mid-traffic: once a third of the traces were exported.
    await waitUntil(() => collector.spans().length >= 150, 60_000, 'traffic under way');
    killedAt = Date.now();
    await replicas[1]!.kill9();
    const acknowledged = await sending;
    expect(acknowledged).toHaveLength(300);
    await waitUntil(() => checkExports(collector.spans(), acknowledged).missing === 0 && checkExports(collector.spans(), acknowledged).tracesWithOneRoot + checkExports(collector.spans(), acknowledged).tracesWithManyRoots === 300, 90_000, 'every acknowledged generation and root');
    const recoveredMillis = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2000));
    const result = checkExports(collector.spans(), acknowledged);
    process.stderr.write(`[gateway kill -9] ${JSON.stringify(result)}; every export in ${recoveredMillis} ms after the kill\n`);
    expect(result).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
  }, 240_000);

  it('a late update for a generation the killed owner exported is counted as late by the new owner, never exported as a second span', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const replicas = [await startReplica(options), await startReplica(options)];
    await waitForStableGroup(replicas, 8);
    const traces = Array.from({ length: 20 }, (_, i) => splitTrace('late', i, Date.now() - 60_000));
    expect(await sendRoundRobin(() => replicas.map((r) => r.url), traces, { concurrency: 10 })).toHaveLength(20);
    await waitUntil(() => checkExports(collector.spans(), traces).tracesWithOneRoot === 20, 60_000, 'every trace exported');
    // Kill the replica owning the first trace's partition; the other takes it over.
    const partition = partitionOf(traces[0]!.traceId, 8);
    const owner = replicas.find((r) => ownership(r).some((o) => o.partition === partition && o.toMillis === Infinity))!;
    const survivor = replicas.find((r) => r !== owner)!;
    await owner.kill9();
    await waitForStableGroup([survivor], 8);
    const late = traces.filter((t) => partitionOf(t.traceId, 8) === partition);
    const updates = late.map((t) => ({
      id: `${t.generationId}-late`,
      type: 'generation-update',
      timestamp: new Date().toISOString(),
      body: { id: t.generationId, traceId: t.traceId, output: { role: 'assistant', content: 'changed afterwards' } },
    }));
    expect((await postBatch(survivor.url, updates)).status).toBe(207);
    // A resend of an exported event is a duplicate, not late.
    expect((await postBatch(survivor.url, late[0]!.second)).status).toBe(207);
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${survivor.url}/metrics`)).text())?.[1] ?? 0);
    const until = Date.now() + 30_000;
    while ((await metric('bridge_late_updates_total')) < late.length && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    expect(await metric('bridge_late_updates_total')).toBe(late.length);
    expect(await metric('bridge_duplicate_events_total')).toBeGreaterThanOrEqual(1);
    // The markers the killed owner wrote are held (hashed) by the survivor.
    expect(await metric('bridge_kafka_markers')).toBeGreaterThanOrEqual(40);
    const result = checkExports(collector.spans(), traces);
    expect(result).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0 });
  }, 240_000);

  it('a rolling restart (SIGTERM, then a new replica): the leaving replica exits 0; nothing acknowledged is missing or partial', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const replicas = [await startReplica(options), await startReplica(options)];
    await waitForStableGroup(replicas, 8);
    const traces = Array.from({ length: 200 }, (_, i) => splitTrace('roll', i, Date.now() - 60_000));
    const sending = sendRoundRobin(() => replicas.filter((r) => r.isRunning()).map((r) => r.url), traces, { concurrency: 10, pauseMillis: 30 });
    await waitUntil(() => collector.spans().length >= 100, 60_000, 'traffic under way');
    const leaving = replicas[0]!;
    const stopped = stopBridge(leaving, 20_000);
    replicas.push(await startReplica(options));
    expect(await stopped).toEqual({ code: 0, signal: null });
    const acknowledged = await sending;
    expect(acknowledged).toHaveLength(200);
    await waitUntil(() => {
      const r = checkExports(collector.spans(), acknowledged);
      return r.missing === 0 && r.tracesWithOneRoot + r.tracesWithManyRoots === 200;
    }, 90_000, 'every generation and root');
    await new Promise((r) => setTimeout(r, 2000));
    const result = checkExports(collector.spans(), acknowledged);
    process.stderr.write(`[gateway rolling restart] ${JSON.stringify(result)}\n`);
    expect(result).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
  }, 240_000);

  it('broker killed: 503 with Retry-After within 30 s and no 207 after; broker back: 207 again and nothing acknowledged is missing', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const a = await startReplica(options);
    const b = await startReplica(options);
    await waitForStableGroup([a, b], 8);
    const before = Array.from({ length: 50 }, (_, i) => splitTrace('brk-before', i, Date.now() - 60_000));
    expect(await sendRoundRobin(() => [a.url, b.url], before, { concurrency: 10 })).toHaveLength(50);

    await broker.kill();
    const killedAt = Date.now();
    const during = Array.from({ length: 30 }, (_, i) => splitTrace('brk-during', i, Date.now() - 60_000));
    const answers: Array<{ status: number; retryAfter: string | null; at: number }> = [];
    // Send for 35 s while the broker is down: nothing may be acknowledged.
    let i = 0;
    while (Date.now() - killedAt < 35_000) {
      const t = during[i++ % during.length]!;
      const answer = await postBatch([a.url, b.url][i % 2]!, t.first, 31_000);
      answers.push({ ...answer, at: Date.now() - killedAt });
      await new Promise((r) => setTimeout(r, 250));
    }
    const first503 = answers.find((x) => x.status === 503);
    expect(first503?.retryAfter).toMatch(/^\d+$/);
    expect(first503!.at).toBeLessThan(30_000);
    expect(answers.filter((x) => x.status === 207)).toEqual([]);
    const ready = await fetch(`${a.url}/api/public/ready`);
    expect(ready.status).toBe(503);

    // A replica started while the broker is down waits for it, then joins.
    const starting = startReplica(options, 120_000);
    await new Promise((r) => setTimeout(r, 4000));
    await broker.restart();
    const restartedAt = Date.now();
    const c = await starting;
    const after = Array.from({ length: 50 }, (_, i) => splitTrace('brk-after', i, Date.now() - 60_000));
    const acknowledgedAfter = await sendRoundRobin(() => [a.url, b.url, c.url], [...during, ...after], { concurrency: 10, deadlineMillis: Date.now() + 90_000 });
    const first207AfterRestartMillis = Date.now() - restartedAt;
    expect(acknowledgedAfter).toHaveLength(80);
    const all = [...before, ...acknowledgedAfter];
    await waitUntil(() => {
      const r = checkExports(collector.spans(), all);
      return r.missing === 0 && r.tracesWithOneRoot + r.tracesWithManyRoots === all.length;
    }, 90_000, 'every acknowledged generation and root');
    const result = checkExports(collector.spans(), all);
    process.stderr.write(`[gateway broker restart] first 503 at ${first503!.at} ms; ${answers.length} answers while down, none 207; all sent again within ${first207AfterRestartMillis} ms of the restart; ${JSON.stringify(result)}\n`);
    expect(result).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
  }, 300_000);
});

describe('gateway mode, rebalancing', () => {
  it("a replica joining mid-traffic: a revoked partition's records are not exported by its old owner; every generation whole, copies identical", async () => {
    collector = await startFakeCollector();
    const own = [await startFakeCollector(), await startFakeCollector(), await startFakeCollector()];
    try {
      const options = { brokers: broker.bootstrap, topic: topic() };
      const a = await startReplica({ ...options, collectorUrl: own[0]!.url });
      const b = await startReplica({ ...options, collectorUrl: own[1]!.url });
      await waitForStableGroup([a, b], 8);
      const replicas = [a, b];
      const traces = Array.from({ length: 300 }, (_, i) => splitTrace('join', i, Date.now() - 60_000));
      const sending = sendRoundRobin(() => replicas.filter((r) => r.isRunning()).map((r) => r.url), traces, { concurrency: 10, pauseMillis: 30 });
      await waitUntil(() => own[0]!.spans().length + own[1]!.spans().length >= 150, 60_000, 'traffic under way');
      const c = await startReplica({ ...options, collectorUrl: own[2]!.url });
      replicas.push(c);
      const acknowledged = await sending;
      expect(acknowledged).toHaveLength(300);
      await waitForStableGroup(replicas, 8);
      const all = () => own.flatMap((o) => o.spans());
      await waitUntil(() => {
        const r = checkExports(all(), acknowledged);
        return r.missing === 0 && r.tracesWithOneRoot + r.tracesWithManyRoots === 300;
      }, 90_000, 'every generation and root');
      await new Promise((r) => setTimeout(r, 2000));
      // Every span a replica exported belongs to a partition it owned then (1 s for a send under way).
      const violations: string[] = [];
      replicas.forEach((replica, i) => {
        const owned = ownership(replica);
        for (const request of own[i]!.requests) {
          for (const span of request.spans) {
            const traceKey = String(span.attributes['langfuse.observation.id'] ?? '').replace(/-g(\d+)$/, '-t$1') || undefined;
            if (!traceKey?.startsWith('join-')) continue;
            const partition = partitionOf(traceKey, 8);
            const ok = owned.some((o) => o.partition === partition && request.receivedAtMillis >= o.fromMillis && request.receivedAtMillis <= o.toMillis + 1000);
            if (!ok) violations.push(`replica ${i} exported ${traceKey} (partition ${partition}) at ${request.receivedAtMillis}`);
          }
        }
      });
      const skipped = replicas.map((r) => r.logs.filter((l) => l.msg === 'partitions revoked: the group is rebalancing').length);
      const result = checkExports(all(), acknowledged);
      process.stderr.write(`[gateway join] revocations per replica ${JSON.stringify(skipped)}; ${JSON.stringify(result)}\n`);
      expect(violations).toEqual([]);
      expect(result).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
    } finally {
      await Promise.all(own.map((o) => o.close()));
    }
  }, 240_000);
});

/**
 * Two destinations, `up` (the shared collector) and `down` (answers 503), with a delivery-queue
 * bound of 40 spans; two replicas in a stable group.
 */
async function upAndDown() {
  collector = await startFakeCollector();
  const down = await startFakeCollector({ kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bridge-gw-config-'));
  const config = path.join(dir, 'destinations.yaml');
  writeFileSync(config, `destinations:\n  - { name: up, type: otlp, traces_endpoint: '${collector.url}' }\n  - { name: down, type: otlp, traces_endpoint: '${down.url}' }\n`);
  const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: 'http://127.0.0.1:9/v1/traces', env: { BRIDGE_CONFIG: config, BRIDGE_KAFKA_MAX_QUEUED_SPANS: '40' } };
  const replicas = [await startReplica(options), await startReplica(options)];
  await waitForStableGroup(replicas, 8);
  return { down, options, replicas };
}

describe('gateway mode, destinations', () => {
  it('a rebalance while one of two destinations is down: the other gets every generation meanwhile; once back, both have every generation whole, copies identical', async () => {
    // A small queue bound: the rebalance happens while the dead destination's consumers are paused.
    const { down, options, replicas } = await upAndDown();
    try {
      const urls = () => replicas.filter((r) => r.isRunning()).map((r) => r.url);
      const first = Array.from({ length: 100 }, (_, i) => splitTrace('dd1', i, Date.now() - 60_000));
      expect(await sendRoundRobin(urls, first, { concurrency: 10 })).toHaveLength(100);
      // The dead destination holds back nothing of the other.
      await waitUntil(() => checkExports(collector.spans(), first).missing === 0, 60_000, 'the healthy destination to get the first traces');
      // A rebalance while it is down: a third replica joins, more traffic.
      replicas.push(await startReplica(options));
      await waitForStableGroup(replicas, 8);
      const second = Array.from({ length: 100 }, (_, i) => splitTrace('dd2', i, Date.now() - 60_000));
      expect(await sendRoundRobin(urls, second, { concurrency: 10 })).toHaveLength(100);
      const all = [...first, ...second];
      await waitUntil(() => checkExports(collector.spans(), all).missing === 0, 60_000, 'the healthy destination to get every trace');
      // Markers are per destination: what the healthy one acknowledged is still owed to the dead one after the rebalance.
      expect(replicas.some((r) => r.logs.some((l) => l['destination'] === 'down' && l.msg === 'a budget is reached: fetching pauses (requests are still accepted)'))).toBe(true);
      const refusedRequests = down.requests.length;
      down.setBehaviour({ kind: 'ok' });
      const accepted = () => down.requests.slice(refusedRequests).flatMap((r) => r.spans);
      await waitUntil(() => {
        const r = checkExports(accepted(), all);
        return r.missing === 0 && r.tracesWithOneRoot + r.tracesWithManyRoots === 200;
      }, 120_000, 'the destination back up to get every trace');
      await new Promise((r) => setTimeout(r, 2000));
      const up = checkExports(collector.spans(), all);
      const back = checkExports(accepted(), all);
      process.stderr.write(`[gateway destination down] healthy ${JSON.stringify(up)}; back up ${JSON.stringify(back)}; ${refusedRequests} sends refused while down\n`);
      expect(up).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
      expect(back).toMatchObject({ missing: 0, partial: 0, differentCopies: 0 });
    } finally {
      await down.close();
    }
  }, 300_000);

  it('one of two destinations down past its queue bound: only its consumer pauses; the other gets every span once and whole meanwhile; once back, the first gets everything once', async () => {
    const { down, replicas } = await upAndDown();
    try {
      const traces = Array.from({ length: 200 }, (_, i) => splitTrace('indep', i, Date.now() - 60_000));
      expect(await sendRoundRobin(() => replicas.map((r) => r.url), traces, { concurrency: 10 })).toHaveLength(200);
      // 400 spans for a destination whose consumers hold at most 40 each: the dead one's consumers pause.
      await waitUntil(() => {
        const r = checkExports(collector.spans(), traces);
        return r.missing === 0 && r.tracesWithOneRoot === 200;
      }, 60_000, 'the healthy destination to get every trace while the other is down');
      const up = checkExports(collector.spans(), traces);
      expect(up).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 200, tracesWithOneRoot: 200 });
      expect(collector.spans()).toHaveLength(400);
      // Per destination: the dead one's consumer is paused and its group lags; the healthy one's committed everything.
      const sum = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
      let seen = { downPaused: 0, upPaused: 0, downLag: 0, upLag: -1 };
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const texts = await Promise.all(replicas.map(async (r) => (await fetch(`${r.url}/metrics`)).text()));
        const all = texts.join('\n');
        seen = {
          downPaused: sum(all, /^bridge_kafka_consumer_paused\{destination="down"\} (\d+)/gm),
          upPaused: sum(all, /^bridge_kafka_consumer_paused\{destination="up"\} (\d+)/gm),
          downLag: sum(all, /^bridge_kafka_partition_lag\{destination="down",partition="\d+"\} (\d+)/gm),
          upLag: sum(all, /^bridge_kafka_partition_lag\{destination="up",partition="\d+"\} (\d+)/gm),
        };
        if (seen.downPaused > 0 && seen.downLag > 0 && seen.upLag === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(seen.downPaused).toBeGreaterThan(0);
      expect(seen.upPaused).toBe(0);
      expect(seen.downLag).toBeGreaterThan(0);
      expect(seen.upLag).toBe(0);
      const refused = down.requests.length;
      expect(refused).toBeGreaterThan(0);
      down.setBehaviour({ kind: 'ok' });
      const accepted = () => down.requests.slice(refused).flatMap((r) => r.spans);
      await waitUntil(() => {
        const r = checkExports(accepted(), traces);
        return r.missing === 0 && r.tracesWithOneRoot === 200;
      }, 120_000, 'the destination back up to get every trace');
      await new Promise((r) => setTimeout(r, 2000));
      const back = checkExports(accepted(), traces);
      process.stderr.write(`[gateway independent destinations] healthy while down ${JSON.stringify(up)}; metrics ${JSON.stringify(seen)}; back up ${JSON.stringify(back)}; ${refused} sends refused while down\n`);
      // No rebalance here: the dead destination gets every span once too.
      expect(back).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 200, tracesWithOneRoot: 200 });
      expect(collector.spans()).toHaveLength(400);
    } finally {
      await down.close();
    }
  }, 300_000);

  it('a destination down past the queue bound: fetching pauses, requests are still accepted, the lag shows; once back, everything is exported', async () => {
    collector = await startFakeCollector({ kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down' });
    const a = await startReplica({ brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url, env: { BRIDGE_KAFKA_MAX_QUEUED_SPANS: '40' } });
    await waitForStableGroup([a], 8);
    const traces = Array.from({ length: 200 }, (_, i) => splitTrace('pause', i, Date.now() - 60_000));
    const acknowledged = await sendRoundRobin(() => [a.url], traces, { concurrency: 20 });
    expect(acknowledged).toHaveLength(200);
    // The lag is read from the broker's log ends every 5 s: poll the metrics rather than read them once.
    let paused = 0;
    let lag = 0;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (paused === 0 || lag === 0)) {
      const metrics = await (await fetch(`${a.url}/metrics`)).text();
      paused = Number(/bridge_kafka_fetch_paused_total\{[^}]*reason="export_queue"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0);
      lag = [...metrics.matchAll(/bridge_kafka_partition_lag\{[^}]*partition="\d+"[^}]*\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      if (paused === 0 || lag === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(paused).toBeGreaterThan(0);
    expect(lag).toBeGreaterThan(0);
    const refused = collector.requests.length;
    collector.setBehaviour({ kind: 'ok' });
    const accepted = () => collector.requests.slice(refused).flatMap((r) => r.spans);
    await waitUntil(() => {
      const r = checkExports(accepted(), traces);
      return r.missing === 0 && r.tracesWithOneRoot === 200;
    }, 120_000, 'every trace once the destination is back');
    process.stderr.write(`[gateway pause] paused ${paused} times, lag ${lag} records while down; ${JSON.stringify(checkExports(accepted(), traces))}\n`);
    expect(checkExports(accepted(), traces)).toMatchObject({ missing: 0, partial: 0, twice: 0 });
  }, 240_000);

  it('many concurrent requests lose no record: 400 at once over two replicas, every generation exported once', async () => {
    collector = await startFakeCollector();
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const a = await startReplica(options);
    const b = await startReplica(options);
    await waitForStableGroup([a, b], 8);
    // Each trace in one request: trace-create, then a generation-create carrying its end and usage.
    const traces = Array.from({ length: 400 }, (_, i) => splitTrace('conc', i, Date.now() - 60_000));
    const answers = await Promise.all(traces.map((t, i) => postBatch([a.url, b.url][i % 2]!, [...t.first, ...t.second])));
    expect(answers.filter((x) => x.status !== 207)).toEqual([]);
    await waitUntil(() => checkExports(collector.spans(), traces).tracesWithOneRoot === 400, 60_000, 'every root');
    await new Promise((r) => setTimeout(r, 1500));
    expect(checkExports(collector.spans(), traces)).toMatchObject({ missing: 0, partial: 0, twice: 0, spanIdsTwice: 0, generationSpans: 400, tracesWithOneRoot: 400 });
  }, 180_000);
});

describe('gateway mode, dead letters', () => {
  it('spans the destination refuses for good go to <topic>-dead-letters, the offsets pass them, and `dead-letters list` lists them', async () => {
    collector = await startFakeCollector({ kind: 'status', status: 400, body: 'bad span' });
    const options = { brokers: broker.bootstrap, topic: topic(), collectorUrl: collector.url };
    const a = await startReplica(options);
    await waitForStableGroup([a], 8);
    const traces = Array.from({ length: 30 }, (_, i) => splitTrace('dead', i, Date.now() - 60_000));
    expect(await sendRoundRobin(() => [a.url], traces, { concurrency: 10 })).toHaveLength(30);
    // 60 spans refused (HTTP 400, halved down to one span each); once their letters are written,
    // their offsets are committed: the lag comes back to 0 (read from the broker every 5 s).
    let dead = 0;
    let lag = -1;
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const metrics = await (await fetch(`${a.url}/metrics`)).text();
      dead = [...metrics.matchAll(/^bridge_dead_lettered_spans_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
      const lags = [...metrics.matchAll(/^bridge_kafka_partition_lag\{[^}]*\} (\d+)/gm)];
      lag = lags.length === 0 ? -1 : lags.reduce((n, m) => n + Number(m[1]), 0);
      if (dead === 60 && lag === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(dead).toBe(60);
    expect(lag).toBe(0);
    const list = await runBridgeCommand(replicaOptions(options), ['dead-letters', 'list'], 60_000);
    expect(list.code).toBe(0);
    const letters = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as { id: string; destination: string; holds: string; spans: number; bytes: number; reason: string });
    expect(letters.reduce((n, l) => n + l.spans, 0)).toBe(60);
    for (const letter of letters) expect(letter).toMatchObject({ destination: 'otlp', holds: 'payloads', reason: 'HTTP 400: bad span' });
    expect(letters.every((l) => l.bytes > 0)).toBe(true);
    expect(list.stderr).toContain(`${letters.length} dead letter(s) in ${options.topic}-dead-letters`);
    // Resending is the embedded store's: in gateway mode the command says so.
    const retry = await runBridgeCommand(replicaOptions(options), ['dead-letters', 'retry'], 60_000);
    expect(retry.code).toBe(2);
    expect(retry.stderr).toContain('not available in gateway mode');
  }, 180_000);
});
