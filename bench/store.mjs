#!/usr/bin/env node
// `npm run bench:store` (builds first): the SQLite store alone, in this process, with the shapes the
// pipeline gives it under `npm run bench`: appends of --batch events (the request log), commits of
// --slice spans of --span-bytes plus one tombstone each and the release of the log rows they
// complete (assembly → queue), and the export worker's peek and dequeue of --export-batch spans.
// Prints events/s of the store work alone and the time in each kind of call, in CPU time too
// (process.cpuUsage: on a shared machine wall time also counts waiting for the core): the measure
// of each change to the store's rows. Flags: node bench/store.mjs --help
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/bridge-process.mjs';
import { parseFlags } from './lib/flags.mjs';

const flags = parseFlags('npm run bench:store -- [flags]', {
  events: { type: 'string', default: '200000', help: 'events (one span each)' },
  batch: { type: 'string', default: '200', help: 'events per log entry (request)' },
  'event-bytes': { type: 'string', default: '1100', help: 'bytes of one event in the log' },
  'span-bytes': { type: 'string', default: '1577', help: 'bytes of one encoded span in the queue' },
  slice: { type: 'string', default: '64', help: 'records per commit (the pipeline slice)' },
  'export-batch': { type: 'string', default: '512', help: 'spans per peek and dequeue' },
  runs: { type: 'string', default: '3', help: 'runs; the best is reported' },
  keys: { type: 'string', default: 'uuid', help: "tombstone keys: 'uuid' (random, as clients send), 'sequential', or 'none' (commits without tombstones: the difference is their cost)" },
  'prefill-keys': { type: 'string', default: '0', help: 'records of exported entities already held (random hashes, written before the run and not timed)' },
});
const num = (name) => Number(flags[name]);
const { default: Database } = await import('better-sqlite3');
const { openSqliteStore } = await import(pathToFileURL(path.join(ROOT, 'dist', 'spool', 'sqlite-store.js')).href);

/** A store that already holds `n` records of exported entities (the table the store creates, in key order). */
function prefill(dir, n) {
  const db = new Database(path.join(dir, 'bridge.sqlite'));
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE exported_keys (key_hash INTEGER PRIMARY KEY, key_check INTEGER NOT NULL, envelope_hashes BLOB NOT NULL, at INTEGER NOT NULL); CREATE INDEX exported_keys_at ON exported_keys (at)');
  const hashes = Float64Array.from({ length: n }, () => Math.floor(Math.random() * 2 ** 53)).sort();
  const insert = db.prepare('INSERT OR IGNORE INTO exported_keys (key_hash, key_check, envelope_hashes, at) VALUES (?, 1, ?, 0)');
  const ids = Buffer.alloc(8);
  db.transaction(() => {
    for (const h of hashes) insert.run(h, ids);
  })();
  db.close();
}

function once() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-store-'));
  if (num('prefill-keys') > 0) prefill(dir, num('prefill-keys'));
  const store = openSqliteStore(dir);
  const { log, queue } = store;
  const event = { id: 'e', type: 'generation-create', timestamp: '2026-01-01T00:00:00.000Z', body: { id: 'x', input: 'y'.repeat(num('event-bytes') - 120) } };
  const span = new Uint8Array(num('span-bytes')).fill(7);
  const times = { append: 0, commit: 0, peek: 0, dequeue: 0 };
  const timed = (kind, fn) => {
    const t = process.cpuUsage();
    const out = fn();
    const used = process.cpuUsage(t);
    times[kind] += (used.user + used.system) / 1000;
    return out;
  };
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  let made = 0;
  let n = 0;
  while (made < num('events')) {
    const events = Array.from({ length: num('batch') }, (_, i) => ({ ...event, id: `e${made + i}` }));
    const entry = timed('append', () => log.append({ receivedAtMillis: 0, source: {}, events }));
    made += events.length;
    // The entry's events complete in slices; the last slice releases the entry.
    for (let i = 0; i < events.length; i += num('slice')) {
      const count = Math.min(num('slice'), events.length - i);
      const items = Array.from({ length: count }, () => ({ queue: 'otlp', payload: span }));
      // Clients' ids are random UUIDs: each tombstone lands on a random page of its index.
      const tombstones =
        flags.keys === 'none'
          ? []
          : Array.from({ length: count }, () =>
              flags.keys === 'sequential' ? { key: `obs:${n}-${++n}`, envelopeIds: [`env-${n}`] } : { key: `obs:${randomUUID()}`, envelopeIds: [randomUUID()] },
            );
      // The queue's commit, then the log's release (a separate, idempotent step).
      timed('commit', () => {
        queue.commit({ items, tombstones }, 0);
        if (i + count >= events.length) log.release([entry.seq]);
      });
    }
    // The export worker keeps up: a batch whenever enough is queued.
    while (queue.queuedItems('otlp') >= num('export-batch')) {
      const batch = timed('peek', () => queue.peek('otlp', 0, num('export-batch')));
      timed('dequeue', () => queue.dequeue(batch.map((s) => s.id)));
    }
  }
  for (;;) {
    const batch = timed('peek', () => queue.peek('otlp', 0, num('export-batch')));
    if (batch.length === 0) break;
    timed('dequeue', () => queue.dequeue(batch.map((s) => s.id)));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { eventsPerSecond: Math.round(made / seconds), eventsPerCpuSecond: Math.round(made / cpuSeconds), seconds: +seconds.toFixed(2), cpuSeconds: +cpuSeconds.toFixed(2), cpuMillis: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(v)])) };
}

const runs = Array.from({ length: num('runs') }, once);
const best = runs.reduce((a, b) => (b.eventsPerCpuSecond > a.eventsPerCpuSecond ? b : a));
for (const run of runs) {
  const ms = run.cpuMillis;
  console.log(`store alone: ${run.eventsPerCpuSecond} events per CPU second, ${run.eventsPerSecond} events/s wall (${run.cpuSeconds} s CPU, ${run.seconds} s wall; CPU ms in append ${ms.append}, commit ${ms.commit}, peek ${ms.peek}, dequeue ${ms.dequeue})`);
}
console.log(JSON.stringify({ bench: 'store', settings: { ...flags, help: undefined }, best, runs }));
