// Issue 10 (5): `kill -9` of the real process with two OTLP destinations, one of them down (503)
// the whole time the bridge is killed: during the ingest (a request in flight; an export the
// healthy backend accepted but whose answer the bridge never read) and after it (the healthy
// destination caught up, the other one's backlog queued on disk). Restarted on the same data
// directory with the down one back up, nothing is lost for either.
//
// What "twice" may mean here (at-least-once): a span is marked exported for a destination only
// when that destination's answer was read. So the healthy backend may get a span again only when
// it accepted it in the last moments before a kill (the bridge died before it dequeued it), and
// then with the same id and content. Everything it accepted earlier is never sent again, although
// the other destination's part of the queue still holds the same records: each destination has
// its own position. The down one accepted nothing before the last start, and that run is not
// killed: it gets every span exactly once.
import { expect, it } from 'vitest';
import { spawnBridge, startBridge, stopBridge, type SpawnedBridge } from '../../helpers/bridge-process.js';
import type { CollectorBehaviour } from '../../helpers/fake-collector.js';
import {
  checkExport,
  Ledger,
  otlpDestinationsYaml,
  postIngestion,
  scenarioResources,
  sleep,
  summarise,
  uncoveredChildren,
  waitUntil,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-kill9-two-');

/** How long before a kill a span's first export may be and still count as "the last moments". */
const LAST_MOMENTS_MILLIS = 2_000;
const DOWN: CollectorBehaviour = { kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'down' };

it('kill -9 during and after an ingest, one of two destinations down: nothing lost for either, nothing sent twice but the last moments', async () => {
  const started = Date.now();
  const healthy = await scenario.startCollector({ kind: 'ok' });
  const down = await scenario.startCollector(DOWN);
  const config = scenario.writeBridgeConfig(otlpDestinationsYaml({ healthy: healthy.url, down: down.url }));
  const options = { dataDir: scenario.makeDataDir(), collectorUrl: 'http://127.0.0.1:9/v1/traces', env: { BRIDGE_CONFIG: config, BRIDGE_SHUTDOWN_TIMEOUT_MS: '1000' } };
  const ledger = new Ledger();
  const queue = litellmBatches(`kill9-two-${started}`, 600, 40);
  const kills: Array<{ moment: string; atMillis: number }> = [];
  let bridge: SpawnedBridge & { url?: string } = await startBridge(options);

  const kill = (moment: string) => {
    kills.push({ moment, atMillis: Date.now() });
    bridge.signal('SIGKILL');
  };
  const killed = async () => expect(await bridge.exited).toEqual({ code: null, signal: 'SIGKILL' });
  const restart = async () => {
    bridge = await startBridge(options);
  };
  const send = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const batch = queue[0]!;
      const attempt = await postIngestion(bridge.url!, batch);
      expect(ledger.record(batch, attempt), JSON.stringify(attempt).slice(0, 300)).toBe(true);
      queue.shift();
    }
  };
  const caughtUp = async () => {
    expect(await waitUntil(() => checkExport(ledger, healthy).missing.length === 0, 20_000, 50)).toBe(true);
  };

  // 1. During the ingest: a request in flight.
  await send(3);
  const inFlight = postIngestion(bridge.url!, queue[0]!);
  await sleep(4);
  kill('request in flight');
  if (ledger.record(queue[0]!, await inFlight)) queue.shift();
  await killed();
  await restart();

  // 2. During the ingest: the healthy backend accepts an export, the bridge dies before the answer.
  await send(3);
  await caughtUp();
  healthy.onRequest(() => {
    healthy.onRequest(undefined);
    kill('export accepted by the healthy backend, not yet answered');
    return { kind: 'ok' };
  });
  const batch = queue[0]!;
  if (ledger.record(batch, await postIngestion(bridge.url!, batch))) queue.shift();
  await killed();
  await restart();

  // 3. After the ingest: the healthy destination has everything, the other one's backlog waits.
  await send(queue.length);
  await caughtUp();
  const failuresBefore = down.failedAnswers();
  await waitUntil(() => down.failedAnswers() > failuresBefore, 10_000);
  // Past the last moments of kill 2: a resend of the healthy part now would be a real duplicate.
  await sleep(Math.max(0, kills.at(-1)!.atMillis + LAST_MOMENTS_MILLIS + 500 - Date.now()));
  kill('after the ingest, healthy caught up, backlog for the other one');
  await killed();
  const downAcceptedBeforeRecovery = down.exported().size;

  // The down one is back; restart on the same data directory.
  down.setBehaviour({ kind: 'ok' });
  await restart();
  // The queue as the store had it when ingestion opened (no export answered yet).
  const resumed = await bridge.ready;
  const complete = await waitUntil(
    () => checkExport(ledger, healthy).missing.length === 0 && checkExport(ledger, down).missing.length === 0,
    60_000,
    100,
  );
  const healthyCheck = checkExport(ledger, healthy);
  const downCheck = checkExport(ledger, down);
  const exit = await stopBridge(bridge);

  const lateDuplicates = healthyCheck.duplicated.filter(
    (d) => !kills.some((k) => d.firstAtMillis <= k.atMillis + 50 && k.atMillis - d.firstAtMillis <= LAST_MOMENTS_MILLIS),
  );
  summarise('kill -9, two destinations, one down', {
    kills: kills.map((k) => k.moment),
    acknowledged: ledger.acknowledgedEvents(),
    expectedSpans: healthyCheck.expected,
    queuedAtLastStart: resumed['queuedSpans'],
    healthyMissing: healthyCheck.missing.length,
    healthyDuplicated: healthyCheck.duplicated.length,
    healthyDuplicatedOutsideLastMoments: lateDuplicates.length,
    downFailedAttempts: down.failedAnswers(),
    downMissing: downCheck.missing.length,
    downDuplicated: downCheck.duplicated.length,
    durationMs: Date.now() - started,
  });
  expect(ledger.acknowledgedEvents()).toBe(1200);
  expect(ledger.refused).toEqual([]);
  expect(complete, `missing: healthy ${healthyCheck.missing.slice(0, 3).join(', ')}; down ${downCheck.missing.slice(0, 3).join(', ')}`).toBe(true);
  expect(downAcceptedBeforeRecovery).toBe(0);
  // The other destination's whole backlog survived the kills, queued on disk.
  expect(Number(resumed['queuedSpans'])).toBeGreaterThanOrEqual(downCheck.expected);
  expect(healthyCheck.missing).toEqual([]);
  expect(downCheck.missing).toEqual([]);
  expect(lateDuplicates).toEqual([]);
  expect(healthyCheck.duplicated.filter((d) => !d.sameContent)).toEqual([]);
  expect(downCheck.duplicated).toEqual([]);
  expect(uncoveredChildren(healthy)).toEqual([]);
  expect(uncoveredChildren(down)).toEqual([]);
  expect(exit).toEqual({ code: 0, signal: null });
}, 120_000);
