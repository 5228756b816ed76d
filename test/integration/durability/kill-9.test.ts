// Issue 3 (b): `kill -9` of the real process at eight different moments during an ingest of 2,500
// LiteLLM events, restarting on the same data directory each time: every event answered 201 is
// exported. At-least-once: a span may be exported again only when it was exported in the last
// moments before a kill (its tombstone not yet written), and then with the same id and content.
import { expect, it } from 'vitest';
import { spawnBridge, startBridge, stopBridge, type RunningBridge, type SpawnedBridge } from '../../helpers/bridge-process.js';
import {
  checkExport,
  Ledger,
  postIngestion,
  sleep,
  summarise,
  uncoveredChildren,
  waitUntil,
  scenarioResources,
} from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';

const scenario = scenarioResources('bridge-kill9-');

/** How long before a kill a span's first export may be and still count as "the last moments". */
const LAST_MOMENTS_MILLIS = 2_000;

it('(b) kill -9 at eight moments during an ingest of 2,500 events: every event answered 201 is exported', async () => {
  const started = Date.now();
  const collector = await scenario.startCollector({ kind: 'ok' });
  const dataDir = scenario.makeDataDir();
  const options = { dataDir, collectorUrl: collector.url, env: { BRIDGE_SHUTDOWN_TIMEOUT_MS: '1000' } };
  const ledger = new Ledger();
  const queue = litellmBatches(`kill9-${started}`, 1250, 50);
  const kills: Array<{ moment: string; atMillis: number }> = [];
  const replayed: number[] = [];
  let peakKb = 0;
  let bridge: SpawnedBridge & { url?: string } = await startBridge(options);

  const kill = (moment: string) => {
    kills.push({ moment, atMillis: Date.now() });
    bridge.signal('SIGKILL');
  };
  const killed = async () => {
    expect(await bridge.exited).toEqual({ code: null, signal: 'SIGKILL' });
    peakKb = Math.max(peakKb, bridge.peakRssKb());
  };
  const restart = async () => {
    const next: RunningBridge = await startBridge(options);
    replayed.push(Number((await next.waitForLog((log) => log.msg === 'ready'))['replayedEntries']));
    bridge = next;
  };
  /** Sends the next `count` batches; each must be acknowledged in full. */
  const send = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const batch = queue[0]!;
      const attempt = await postIngestion(bridge.url!, batch);
      expect(ledger.record(batch, attempt), JSON.stringify(attempt).slice(0, 300)).toBe(true);
      queue.shift();
    }
  };

  /** Sends the next batch once; a kill may cut it (then it stays queued, as an SDK would retry it). */
  const sendOnce = async () => {
    const batch = queue[0]!;
    if (ledger.record(batch, await postIngestion(bridge.url!, batch))) queue.shift();
  };
  /** Waits until everything acknowledged so far was exported (the bridge caught up). */
  const caughtUp = async () => {
    expect(await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 20_000, 50)).toBe(true);
  };

  // 1. In the middle of a request (parsing, validating or committing it).
  await send(3);
  const inFlight = postIngestion(bridge.url!, queue[0]!);
  await sleep(4);
  kill('request in flight');
  if (ledger.record(queue[0]!, await inFlight)) queue.shift();
  await killed();
  await restart();

  // 2. Right after a 207: stored, assembled, nothing exported yet.
  await send(2);
  kill('just after a 207');
  await killed();
  await restart();

  // 3. An export reached the backend, which accepts it; the bridge dies before the answer.
  await caughtUp();
  collector.onRequest(() => {
    collector!.onRequest(undefined);
    kill('export received by the backend, not yet answered');
    return { kind: 'ok' };
  });
  await sendOnce();
  await killed();
  await restart();

  // 4. Backend down, a backlog waits for the retry; kill during the backoff.
  collector.setBehaviour({ kind: 'status', status: 503, headers: { 'Retry-After': '1' } });
  await send(4);
  await waitUntil(() => collector!.failedAnswers() > 0, 5_000);
  kill('backlog waiting, backend down');
  await killed();

  // 5. The backend is back; kill as soon as the restarted bridge has replayed the backlog.
  collector.setBehaviour({ kind: 'ok' });
  bridge = spawnBridge(options);
  await bridge.waitForLog((log) => log.msg === 'resumed from the store');
  kill('right after replaying the store');
  await killed();
  await restart();

  // 6. Just after the backend answered 200: the bridge is settling (tombstones, releases).
  await caughtUp();
  collector.onRequest(() => {
    collector!.onRequest(undefined);
    setImmediate(() => kill('just after an export was answered 200'));
    return { kind: 'ok' };
  });
  await sendOnce();
  await waitUntil(() => !bridge.isRunning(), 5_000);
  await killed();
  await restart();

  // 7. A burst of four concurrent requests, cut part-way.
  const burst = queue.slice(0, 4);
  const answers = burst.map((batch) => postIngestion(bridge.url!, batch));
  await sleep(15);
  kill('burst of concurrent requests');
  const results = await Promise.all(answers);
  burst.forEach((batch, i) => {
    if (ledger.record(batch, results[i]!)) queue.splice(queue.indexOf(batch), 1);
  });
  await killed();

  // 8. During startup, before it listens (opening the store, replaying).
  bridge = spawnBridge(options);
  await sleep(120);
  kill('during startup');
  await bridge.exited;
  await restart();

  // 9. While traces wait to turn idle (roots not exported yet).
  await send(2);
  await sleep(100);
  kill('roots waiting for their trace to turn idle');
  await killed();
  await restart();

  // The rest of the traffic, then wait for everything acknowledged to come out.
  await send(queue.length);
  const complete = await waitUntil(() => checkExport(ledger, collector!).missing.length === 0, 30_000, 100);
  const check = checkExport(ledger, collector);
  const uncovered = uncoveredChildren(collector);
  peakKb = Math.max(peakKb, bridge.peakRssKb());
  const exit = await stopBridge(bridge);

  const lateDuplicates = check.duplicated.filter((d) => !kills.some((k) => d.firstAtMillis <= k.atMillis + 50 && k.atMillis - d.firstAtMillis <= LAST_MOMENTS_MILLIS));
  summarise('(b) kill -9', {
    kills: kills.length,
    moments: kills.map((k) => k.moment),
    replayedEntriesPerStart: replayed,
    sent: ledger.sent.size,
    acknowledged: ledger.acknowledgedEvents(),
    expectedSpans: check.expected,
    exportedSpans: check.exported,
    missing: check.missing.length,
    duplicated: check.duplicated.length,
    duplicatedWithOtherContent: check.duplicated.filter((d) => !d.sameContent).length,
    childrenOutsideTheirRoot: uncovered.length,
    peakRssMb: (peakKb / 1024).toFixed(1),
    durationMs: Date.now() - started,
  });
  expect(kills.length).toBeGreaterThanOrEqual(5);
  expect(ledger.acknowledgedEvents()).toBe(2500);
  expect(ledger.refused).toEqual([]);
  expect(complete, `missing: ${check.missing.slice(0, 5).join(', ')}`).toBe(true);
  expect(check.missing).toEqual([]);
  // At-least-once: duplicates only for spans exported just before a kill, identical each time.
  expect(lateDuplicates).toEqual([]);
  expect(check.duplicated.filter((d) => !d.sameContent)).toEqual([]);
  // Roots rebuilt after a restart still span the observations exported before the kill (the
  // assembler widens them from the replayed, already-exported observations).
  expect(uncovered, `children outside their root, e.g. ${uncovered[0]}`).toEqual([]);
  expect(exit).toEqual({ code: 0, signal: null });
}, 120_000);
