#!/usr/bin/env node
// Bytes of heap per exported-entity marker in the gateway's memory (src/gateway/marker-store.ts),
// beside the representation it replaced (per partition a Map of the marker key string to
// { ids: Set of envelope id strings, atMillis }). Markers as the companion topic holds them: key
// `<destination>/observation:<uuid>`, two envelope ids (a generation's create and update) each.
// Run after `npm run build`: node --expose-gc bench/markers-memory.mjs [markers, default 200000]
import { createHash } from 'node:crypto';
import { MarkerStore } from '../dist/gateway/marker-store.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const count = Number(process.argv[2] ?? 200_000);
const PARTITIONS = 64;
// A UUID-shaped id made on demand (no source array whose strings would be counted or freed in
// between): fresh flat strings, as the reader gets them (message.key.toString, JSON.parse).
const uuid = (n) => {
  const h = createHash('md5').update(String(n)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const fresh = (s) => Buffer.from(s).toString('utf8');
const at = Date.now();
function* markers() {
  for (let i = 0; i < count; i++) yield { partition: i % PARTITIONS, key: fresh(`otlp/observation:${uuid(i)}`), ids: [fresh(uuid(-2 * i - 1)), fresh(uuid(-2 * i - 2))], at };
}

const settledHeap = () => {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
};

function measure(build) {
  const before = settledHeap();
  const held = build();
  const bytes = settledHeap() - before;
  return { held, bytesPerMarker: Math.round(bytes / count) };
}

const before = measure(() => {
  const byPartition = new Map();
  for (const m of markers()) {
    let byKey = byPartition.get(m.partition);
    if (!byKey) byPartition.set(m.partition, (byKey = new Map()));
    byKey.set(m.key, { ids: new Set(m.ids), atMillis: m.at });
  }
  return byPartition;
});
const after = measure(() => {
  const store = new MarkerStore(count);
  for (const m of markers()) store.set(m.partition, m.key, m.ids, m.at);
  return store;
});
// Kept alive until both were measured.
globalThis.keep = [before.held, after.held];
console.log(`${count} markers (2 envelope ids each): ${before.bytesPerMarker} B per marker as key strings and Sets, ${after.bytesPerMarker} B per marker hashed (marker-store.ts)`);
console.log(JSON.stringify({ bench: 'markers-memory', markers: count, bytesPerMarkerBefore: before.bytesPerMarker, bytesPerMarkerAfter: after.bytesPerMarker, held: [before.held.size, after.held.size] }));
