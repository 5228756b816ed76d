// Issue 18 (4, 5): a flood by one tenant leaves the other's latency within the bound. The real
// process, two tenants: team-a sends LiteLLM-sized batches one after another and times each answer;
// team-b floods with many concurrent senders, past its max_events_per_second. Quiet and flooded
// rounds alternate in the same run, so whatever else loads the machine (other test files, other
// processes) loads both sides alike; the bound is the issue's: team-a's p99 under the flood at most
// 3× its p99 without it, over hundreds of samples each. The figures are printed; with
// BRIDGE_TEST_FLOOD_COMPARE=1 a run without the limit (the flood then gets in) is printed too, to
// show what the limit buys, and not asserted. In the e2e suite because its files run one after
// another: under `npm test` (files in parallel on 2 cores) another file's CPU bursts landing in one
// round made its p99 noise, not the flood's (measured: 1 of 3 runs over 3× beside kill-9.test.ts).
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { startBridge, stopBridge, type RunningBridge } from '../helpers/bridge-process.js';
import { startFakeCollector } from '../helpers/fake-collector.js';
import { ingestionBody, litellmBatches } from '../helpers/ingestion-events.js';
import { scenarioResources, summarise } from '../helpers/litellm-traffic.js';

const scenario = scenarioResources('bridge-tenant-flood-');
const KEYS = {
  'team-a': { publicKey: 'pk-lf-flood-a', secretKey: 'sk-lf-flood-a' },
  'team-b': { publicKey: 'pk-lf-flood-b', secretKey: 'sk-lf-flood-b' },
} as const;
const basic = (t: keyof typeof KEYS) => `Basic ${Buffer.from(`${KEYS[t].publicKey}:${KEYS[t].secretKey}`).toString('base64')}`;

const ROUNDS = 4;
const SAMPLES_PER_ROUND = 100;
const FLOOD_SENDERS = 4;
const WARM_UP = 50;
/** team-b's limit: a dozen of its 40-event batches a second get in, the rest are refused. */
const FLOOD_LIMIT_EVENTS_PER_SECOND = 200;

/**
 * The flood's senders run on a thread of their own, so that their uploads never delay the event
 * loop that times team-a's requests (that would measure the test, not the bridge). Plain JS: the
 * worker is evaluated as is. It stops when the shared flag is set and posts its counts.
 */
const FLOOD_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, auth, bodies, senders, stop } = workerData;
const flag = new Int32Array(stop);
const counts = { accepted: 0, refused: 0, other: 0 };
let next = 0;
async function sender() {
  while (Atomics.load(flag, 0) === 0) {
    let status = 0;
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: bodies[next++ % bodies.length] });
      await res.arrayBuffer();
      status = res.status;
    } catch (e) { counts.error ??= String(e && e.cause ? e.cause : e); }
    if (status === 207) counts.accepted++;
    else if (status === 429) counts.refused++;
    else { counts.other++; counts['s' + status] = (counts['s' + status] ?? 0) + 1; }
  }
}
Promise.all(Array.from({ length: senders }, sender)).then(() => parentPort.postMessage(counts));
`;

/** Starts the flood; `stop()` ends it and resolves with what its requests were answered. */
function startFlood(url: string, bodies: string[]): { stop(): Promise<{ accepted: number; refused: number; other: number }> } {
  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(FLOOD_WORKER, { eval: true, workerData: { url: `${url}/api/public/ingestion`, auth: basic('team-b'), bodies, senders: FLOOD_SENDERS, stop } });
  const done = new Promise<{ accepted: number; refused: number; other: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      Atomics.store(new Int32Array(stop), 0, 1);
      const counts = await done;
      await worker.terminate();
      return counts;
    },
  };
}

async function post(url: string, tenant: keyof typeof KEYS, body: string): Promise<number> {
  const res = await fetch(`${url}/api/public/ingestion`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic(tenant) }, body });
  await res.arrayBuffer();
  return res.status;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Figures {
  quietP50: number;
  quietP99: number;
  floodP50: number;
  floodP99: number;
  ratioP99: number;
  floodAccepted: number;
  floodRefused: number;
}

/** Alternating quiet and flooded rounds of team-a's sequential requests; milliseconds. */
async function measure(bridge: RunningBridge, runId: string): Promise<Figures> {
  const own = litellmBatches(`${runId}-a`, (WARM_UP + ROUNDS * 2 * SAMPLES_PER_ROUND) * 5, 5).map(ingestionBody);
  const flood = litellmBatches(`${runId}-b`, 2000, 20).map(ingestionBody);
  const quiet: number[] = [];
  const flooded: number[] = [];
  let next = 0;
  const counts = { accepted: 0, refused: 0, other: 0 };
  const round = async (into: number[]) => {
    for (let i = 0; i < SAMPLES_PER_ROUND; i++) {
      const started = performance.now();
      const status = await post(bridge.url, 'team-a', own[next++]!);
      into.push(performance.now() - started);
      expect(status).toBe(207);
    }
  };
  // Warm-up: connections, JIT, the store's first pages.
  for (let i = 0; i < WARM_UP; i++) await post(bridge.url, 'team-a', own[next++]!);
  for (let r = 0; r < ROUNDS; r++) {
    await round(quiet);
    const flooding = startFlood(bridge.url, [...flood.slice(r * 25), ...flood.slice(0, r * 25)]);
    try {
      // The flood runs before, during and after team-a's round.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await round(flooded);
    } finally {
      const answered = await flooding.stop();
      counts.accepted += answered.accepted;
      counts.refused += answered.refused;
      counts.other += answered.other;
      Object.assign(counts, answered, { accepted: counts.accepted, refused: counts.refused, other: counts.other });
    }
  }
  expect(counts.other, JSON.stringify(counts)).toBe(0);
  const figures = {
    quietP50: percentile(quiet, 50),
    quietP99: percentile(quiet, 99),
    floodP50: percentile(flooded, 50),
    floodP99: percentile(flooded, 99),
    ratioP99: 0,
    floodAccepted: counts.accepted,
    floodRefused: counts.refused,
  };
  figures.ratioP99 = figures.floodP99 / figures.quietP99;
  return figures;
}

async function startWithFloodLimit(limit: number | undefined): Promise<RunningBridge> {
  const collector = scenario.track(await startFakeCollector());
  const config = scenario.writeBridgeConfig(`
tenants:
  - { name: team-a, public_key: ${KEYS['team-a'].publicKey}, secret_key: ${KEYS['team-a'].secretKey} }
  - { name: team-b, public_key: ${KEYS['team-b'].publicKey}, secret_key: ${KEYS['team-b'].secretKey}${limit !== undefined ? `, max_events_per_second: ${limit}` : ''} }
destinations:
  - { name: tempo, type: otlp, traces_endpoint: '${collector.url}', headers: { X-Scope-OrgID: '\${tenant}' } }
`);
  return startBridge({ dataDir: scenario.makeDataDir(), collectorUrl: collector.url, env: { BRIDGE_CONFIG: config } });
}

it('a tenant flooding past its max_events_per_second leaves the other tenant\'s p99 within 3× its p99 without the flood', async () => {
  const runId = `flood-${Date.now()}`;
  const limited = await startWithFloodLimit(FLOOD_LIMIT_EVENTS_PER_SECOND);
  await limited.ready;
  const withLimit = await measure(limited, `${runId}-limited`);
  await stopBridge(limited);
  summarise('tenant flood, team-b limited', round(withLimit));

  // For comparison only, on demand (it doubles the time): the same flood, let in.
  if (process.env['BRIDGE_TEST_FLOOD_COMPARE'] === '1') {
    const open = await startWithFloodLimit(undefined);
    await open.ready;
    const withoutLimit = await measure(open, `${runId}-open`);
    await stopBridge(open);
    summarise('tenant flood, team-b not limited (not asserted)', round(withoutLimit));
  }

  // The flood was a flood: refused far more often than let in.
  expect(withLimit.floodRefused).toBeGreaterThan(withLimit.floodAccepted * 10);
  expect(withLimit.ratioP99).toBeLessThanOrEqual(3);
}, 120_000);

function round(f: Figures): Record<string, number> {
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}
