#!/usr/bin/env node
// The mapping stage's CPU per record, in process, on the benchmark's LiteLLM records (a root and
// a generation per call, from lib/litellm-bodies.mjs through the real validation and assembly):
// mapRecord with the `genai` preset, the protobuf span encoder, and the GenAI metrics recorder
// (fed per slice of 200 drafts, as the pipeline does; its reader never exports during the run).
// Prints CPU µs per record for each part and a SHA-256 of every payload, so two builds can be
// checked to write the same bytes before their times are compared. A micro-benchmark for one
// stage: `npm run bench` end to end decides what is kept.
//
//   npm run build && node bench/map-encode.mjs [--records 20000] [--rounds 10]
import { createHash } from 'node:crypto';
import { toOfflineRecords } from '../dist/cli/offline-records.js';
import { compileMapping } from '../dist/mapping/compile-mapping.js';
import { loadMapping } from '../dist/mapping/load-mapping.js';
import { mapRecord } from '../dist/mapping/apply-mapping.js';
import { createSpanEncoder } from '../dist/export/span-encoder.js';
import { createGenAiMetricsRecorder } from '../dist/export/genai-metrics.js';
import { createBodyStream } from './lib/litellm-bodies.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RECORDS = arg('records', 20_000);
const ROUNDS = arg('rounds', 10);
const SLICE = 200;

// The bodies are stamped with Date.now(): a fixed clock while they are made keeps the payloads,
// and so their digest, the same from run to run.
const stream = createBodyStream('bench-map-encode');
const records = [];
const realNow = Date.now;
Date.now = () => Date.UTC(2026, 0, 2, 3, 4, 5, 678);
while (records.length < RECORDS) {
  const { records: made, rejected } = toOfflineRecords(JSON.parse(stream.next(SLICE)));
  if (rejected.length > 0) throw new Error(`rejected events: ${JSON.stringify(rejected[0])}`);
  records.push(...made);
}
Date.now = realNow;
records.length = RECORDS;

const mapping = compileMapping(loadMapping('genai'), { captureContent: true, estimateCost: true });
const encode = createSpanEncoder({ encoding: 'protobuf', resourceAttributes: {}, bridgeVersion: '0.0.0-bench' });
const metrics = createGenAiMetricsRecorder({
  exporters: ['otlp'],
  url: 'http://127.0.0.1:9/v1/metrics',
  protocol: 'http/protobuf',
  timeoutMillis: 100,
  exportIntervalMillis: 3_600_000,
  resourceAttributes: {},
  bridgeVersion: '0.0.0-bench',
});

const cpuMicros = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const totals = { map: 0, encode: 0, metrics: 0 };
// The best round of each part as well: on a shared machine it moves less than the mean.
const best = { map: Infinity, encode: Infinity, metrics: Infinity };
let digest = '';
for (let round = 0; round <= ROUNDS; round++) {
  const hash = round === 0 ? createHash('sha256') : undefined;
  const before = { ...totals };
  for (let from = 0; from < records.length; from += SLICE) {
    const slice = records.slice(from, from + SLICE);
    let t = cpuMicros();
    const drafts = slice.map((record) => mapRecord(mapping, record));
    let now = cpuMicros();
    if (round > 0) totals.map += now - t;
    t = now;
    for (const draft of drafts) {
      const payload = encode(draft);
      hash?.update(payload);
    }
    now = cpuMicros();
    if (round > 0) totals.encode += now - t;
    t = now;
    metrics.record(drafts);
    now = cpuMicros();
    if (round > 0) totals.metrics += now - t;
  }
  if (hash) digest = hash.digest('hex');
  if (round > 0) for (const part of Object.keys(best)) best[part] = Math.min(best[part], totals[part] - before[part]);
}
const per = (micros) => (micros / (ROUNDS * RECORDS)).toFixed(2);
console.log(`${RECORDS} records × ${ROUNDS} rounds (after one warm-up round), CPU µs per record:`);
console.log(`  mean        map ${per(totals.map)}   encode ${per(totals.encode)}   metrics ${per(totals.metrics)}   total ${per(totals.map + totals.encode + totals.metrics)}`);
const perBest = (micros) => (micros / RECORDS).toFixed(2);
console.log(`  best round  map ${perBest(best.map)}   encode ${perBest(best.encode)}   metrics ${perBest(best.metrics)}`);
console.log(`  payload sha256 ${digest}`);
await metrics.shutdown().catch(() => undefined);
