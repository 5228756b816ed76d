#!/usr/bin/env node
// Ingest throughput of the built bridge (`npm run bench` builds first, then runs this).
// Starts `node dist/main.js` (SQLite store in a temporary directory) with a no-op OTLP/HTTP
// receiver on 127.0.0.1, sends LiteLLM-shaped batches (one trace-create + one generation-create
// per call, about 1 KB per event, BENCH_BATCH events per request) from BENCH_CONCURRENCY clients,
// and prints: events/s accepted, the time until every span was exported, p50/p99 request latency
// and the bridge's peak RSS.
//
// Settings (environment): BENCH_EVENTS=100000 BENCH_BATCH=200 BENCH_CONCURRENCY=4
// BENCH_SPOOL_MEMORY=1 also measures the bridge's memory with the backend down and the spool full,
// for a few BRIDGE_SPOOL_MAX_BYTES values (the known gap: the assembler holds pending events).
import { startBridge, startReceiver } from './bench-bridge.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

const PROMPT = 'Summarise the ticket: the customer reports that the export stopped working after the upgrade; '.repeat(3);
const ANSWER = 'The export broke after the upgrade; a rollback fixed it. '.repeat(3);

function iso(millis) {
  return new Date(millis).toISOString().replace('Z', '123Z');
}

/** One LiteLLM call: trace-create + generation-create, about 1 KB each. */
function call(run, i, at) {
  const traceId = `bench-${run}-trace-${i}`;
  return [
    {
      id: `bench-${run}-${i}-t`,
      type: 'trace-create',
      timestamp: iso(at),
      body: {
        id: traceId,
        timestamp: iso(at),
        name: 'litellm-acompletion',
        userId: `user-${i % 17}`,
        sessionId: `session-${i % 5}`,
        input: { messages: [{ role: 'user', content: PROMPT }] },
        output: { content: ANSWER, role: 'assistant', tool_calls: null, function_call: null },
        metadata: { call: i },
        tags: ['bench'],
      },
    },
    {
      id: `bench-${run}-${i}-g`,
      type: 'generation-create',
      timestamp: iso(at),
      body: {
        id: `time-${run}-${i}_chatcmpl-${i}`,
        traceId,
        name: 'litellm-acompletion',
        startTime: iso(at - 900),
        endTime: iso(at - 100),
        completionStartTime: iso(at - 400),
        model: 'gpt-4o-mini',
        modelParameters: { temperature: '0.2', max_tokens: 256 },
        input: { messages: [{ role: 'user', content: PROMPT }] },
        output: { content: ANSWER, role: 'assistant' },
        usage: { input: 120, output: 40, unit: 'TOKENS', totalCost: 0.000035 },
        metadata: { hidden_params: { api_base: 'https://api.openai.com', response_cost: 0.000035 }, cache_hit: false },
        level: 'DEFAULT',
      },
    },
  ];
}

function body(run, firstCall, calls) {
  const at = Date.now();
  const batch = [];
  for (let i = firstCall; i < firstCall + calls; i++) batch.push(...call(run, i, at));
  return JSON.stringify({ batch, metadata: { sdk_name: 'python', sdk_version: '2.44.1', sdk_integration: 'litellm' } });
}

async function post(url, text) {
  const res = await fetch(`${url}/api/public/ingestion`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
  const answer = await res.json();
  return { status: res.status, answer, retryAfter: Number(res.headers.get('retry-after') ?? 1) };
}

async function exportedSpans(url) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^bridge_spans_exported_total (\d+)/m.exec(text)?.[1] ?? 0);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function throughput() {
  const receiver = await startReceiver();
  const bridge = startBridge(receiver.url);
  const url = await bridge.listening;
  const callsPerRequest = BATCH / 2;
  const requests = Math.ceil(EVENTS / BATCH);
  const run = Date.now().toString(36);
  const latencies = [];
  let accepted = 0;
  let refused = 0;
  let next = 0;
  const started = performance.now();
  const client = async () => {
    for (let r = next++; r < requests; r = next++) {
      const text = body(run, r * callsPerRequest, callsPerRequest);
      for (;;) {
        const t0 = performance.now();
        const { status, answer, retryAfter } = await post(url, text);
        latencies.push(performance.now() - t0);
        if (status === 207) {
          accepted += answer.successes.length;
          break;
        }
        refused++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, retryAfter * 1000)));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const ingestSeconds = (performance.now() - started) / 1000;
  const expectedSpans = accepted; // one span per event: a generation, or the root of its trace
  let exported = 0;
  while ((exported = await exportedSpans(url)) < expectedSpans) {
    if (performance.now() - started > 600_000) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const exportSeconds = (performance.now() - started) / 1000;
  const peakMb = bridge.peakKb() / 1024;
  const exit = await bridge.stop();
  await receiver.close();
  latencies.sort((a, b) => a - b);
  const result = {
    events: accepted,
    requests: latencies.length,
    refused503: refused,
    eventsPerRequest: BATCH,
    concurrency: CONCURRENCY,
    ingestSeconds: +ingestSeconds.toFixed(2),
    eventsPerSecondAccepted: Math.round(accepted / ingestSeconds),
    exportCompleteSeconds: +exportSeconds.toFixed(2),
    spansExported: exported,
    otlpRequests: receiver.state.requests,
    otlpMegabytes: +(receiver.state.bytes / 1048576).toFixed(1),
    latencyMs: { p50: +percentile(latencies, 50).toFixed(1), p99: +percentile(latencies, 99).toFixed(1), max: +latencies.at(-1).toFixed(1) },
    peakRssMb: +peakMb.toFixed(1),
    exit,
  };
  console.log(`accepted ${result.events} events in ${result.ingestSeconds} s: ${result.eventsPerSecondAccepted} events/s (${BATCH}/request, ${CONCURRENCY} clients)`);
  console.log(`all ${result.spansExported} spans exported ${result.exportCompleteSeconds} s after the first request (${result.otlpRequests} OTLP requests, ${result.otlpMegabytes} MB)`);
  console.log(`request latency p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, max ${result.latencyMs.max} ms; peak RSS ${result.peakRssMb} MB`);
  return result;
}

/** Backend down: fill the spool to BRIDGE_SPOOL_MAX_BYTES and read the bridge's memory there. */
async function spoolMemory(maxBytes) {
  const receiver = await startReceiver();
  receiver.state.down = true;
  const bridge = startBridge(receiver.url, { BRIDGE_SPOOL_MAX_BYTES: String(maxBytes) });
  const url = await bridge.listening;
  const baseline = bridge.memory();
  const run = Date.now().toString(36);
  let accepted = 0;
  for (let r = 0; ; r++) {
    const { status, answer } = await post(url, body(run, r * (BATCH / 2), BATCH / 2));
    if (status !== 207) break;
    accepted += answer.successes.length;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const atLimit = bridge.memory();
  const peakMb = bridge.peakKb() / 1024;
  await bridge.stop();
  await receiver.close();
  const result = {
    spoolMaxMb: +(maxBytes / 1048576).toFixed(0),
    eventsHeld: accepted,
    baselineRssMb: +(baseline.rssKb / 1024).toFixed(1),
    rssAtLimitMb: +(atLimit.rssKb / 1024).toFixed(1),
    peakRssMb: +peakMb.toFixed(1),
    rssPerSpoolByte: +((atLimit.rssKb - baseline.rssKb) * 1024 / maxBytes).toFixed(2),
  };
  console.log(`spool limit ${result.spoolMaxMb} MB, backend down: ${accepted} events held, RSS ${result.baselineRssMb} → ${result.rssAtLimitMb} MB (peak ${result.peakRssMb}), ${result.rssPerSpoolByte} bytes of RSS per spooled byte`);
  return result;
}

const results = { throughput: await throughput() };
if (process.env.BENCH_SPOOL_MEMORY === '1') {
  results.spoolMemory = [];
  for (const mb of [16, 64, 256]) results.spoolMemory.push(await spoolMemory(mb * 1048576));
}
console.log(JSON.stringify(results));
