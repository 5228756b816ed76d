#!/usr/bin/env node
// `node bench/read-back.mjs` (after `npm run build`): assembly's read-back from the SQLite request
// log alone, in this process. --entries requests of --batch LiteLLM-shaped events are logged and
// assembled one per 10 ms (their generations complete at once and are confirmed, their traces stay
// open), and the roots are collected once idle, --window entries later (npm run bench at ~25,000
// events/s and a 200 ms idle window: ~25), each reading its trace's payloads back from the log
// unless the assembler's cache of ingested entries still holds its entry. The CPU time of those
// collections, per entry and per root, is the figure. `--root DIR` runs another checkout's build
// (e.g. a worktree at main, for a before/after). Flags: node bench/read-back.mjs --help
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib/bridge-process.mjs';
import { createBodyStream } from './lib/litellm-bodies.mjs';
import { parseFlags } from './lib/flags.mjs';

const flags = parseFlags('node bench/read-back.mjs [flags]', {
  entries: { type: 'string', default: '200', help: 'log entries (requests)' },
  batch: { type: 'string', default: '200', help: 'events per entry' },
  slice: { type: 'string', default: '64', help: 'records per collect (the pipeline slice)' },
  window: { type: 'string', default: '25', help: 'entries ingested while a trace waits to be idle' },
  runs: { type: 'string', default: '5', help: 'runs' },
  root: { type: 'string', default: ROOT, help: 'the checkout whose dist/ is measured' },
});
const load = (file) => import(pathToFileURL(path.join(path.resolve(flags.root), 'dist', file)).href);
const { openSqliteStore } = await load('spool/sqlite-store.js');
const { Assembler } = await load('assembly/assembler.js');
const { validateBatch } = await load('ingestion/validate-batch.js');

const stream = createBodyStream();
const bodies = Array.from({ length: Number(flags.entries) }, () => validateBatch(JSON.parse(stream.next(Number(flags.batch))).batch).accepted);

function once() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-bench-read-back-'));
  const store = openSqliteStore(dir);
  const { log } = store;
  // Both ports' names: the build measured takes the one it knows.
  const tick = 10;
  const assembler = new Assembler({
    traceIdleMillis: Number(flags.window) * tick,
    observationTimeoutMillis: 600_000,
    exportedEnvelopeIds: () => undefined,
    readEntries: log.readEntries?.bind(log),
    readEvents: log.readEvents?.bind(log),
  });
  let roots = 0;
  let cpuMicros = 0;
  let wallMillis = 0;
  const collectDue = (now) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (;;) {
      const due = assembler.collect(now, Number(flags.slice), 'due');
      if (due.keys.length === 0) break;
      roots += due.records.length;
      assembler.confirm(due);
    }
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    wallMillis += performance.now() - started;
  };
  for (const [k, events] of bodies.entries()) {
    const now = k * tick;
    assembler.ingest(log.append({ receivedAtMillis: now, source: {}, events }), now);
    const ready = assembler.collect(now, Number.MAX_SAFE_INTEGER, 'ready');
    assembler.confirm(ready);
    collectDue(now);
  }
  collectDue(Number.MAX_SAFE_INTEGER);
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return { roots, cpuMillis: Math.round(cpuMicros / 1000), wallMillis: Math.round(wallMillis), cpuMicrosPerEntry: Math.round(cpuMicros / bodies.length), cpuMicrosPerRoot: +(cpuMicros / roots).toFixed(2) };
}

const runs = Array.from({ length: Number(flags.runs) }, once);
for (const run of runs) console.log(`read-back: ${run.roots} roots, ${run.cpuMillis} ms CPU (${run.wallMillis} ms wall): ${run.cpuMicrosPerEntry} µs per entry, ${run.cpuMicrosPerRoot} µs per root`);
console.log(JSON.stringify({ bench: 'read-back', root: path.resolve(flags.root), settings: { ...flags, help: undefined, root: undefined }, runs }));
