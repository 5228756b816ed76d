// Load generators for the benchmarks: closed loop (N clients, each sends its next body once the
// last one is answered; a 503 is retried after its Retry-After) and open loop (requests fired on
// a fixed schedule whatever the answers, latency measured from the scheduled time so a stalled
// bridge cannot hide its stall). Plus percentiles. Knows the ingestion route, nothing else.
import { httpRequest } from './bridge-process.mjs';

export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function latencySummary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const round = (x) => (x === undefined ? undefined : +x.toFixed(2));
  return { count: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1)) };
}

/** POSTs one body; counts the 201s in a 207. */
export async function postBody(baseUrl, body) {
  const t0 = performance.now();
  const res = await httpRequest(`${baseUrl}/api/public/ingestion`, { method: 'POST', body });
  const latencyMillis = performance.now() - t0;
  let successes = 0;
  let errors = 0;
  if (res.status === 207) {
    const answer = JSON.parse(res.text);
    successes = answer.successes.filter((s) => s.status === 201).length;
    errors = answer.errors.length;
  }
  const retryAfterSeconds = Number(res.headers?.['retry-after'] ?? 1);
  return { status: res.status, latencyMillis, successes, errors, retryAfterSeconds, error: res.error };
}

/**
 * Sends `events` events in bodies of `batch` from `concurrency` clients as fast as the bridge
 * answers. `shouldStop()` ends it early (e.g. the spool is full). `maxRetryMillis` caps the wait
 * after a 503. Returns counts, bytes, latencies and times.
 */
export async function closedLoop({ baseUrl, stream, events, batch, concurrency, shouldStop = () => false, maxRetryMillis = 1000, onAnswer }) {
  const out = { accepted: 0, acceptedBytes: 0, rejectedEvents: 0, refused503: 0, failed: 0, requests: 0, latencies: [], firstSentAt: performance.now(), lastAnsweredAt: 0, retryAfterSeen: undefined };
  let made = 0;
  let stop = false;
  const client = async () => {
    while (!stop && made < events) {
      const size = Math.min(batch, events - made);
      made += size;
      const body = stream.next(size);
      for (;;) {
        const answer = await postBody(baseUrl, body);
        out.requests++;
        out.latencies.push(answer.latencyMillis);
        out.lastAnsweredAt = performance.now();
        onAnswer?.(answer, body);
        if (answer.status === 207) {
          out.accepted += answer.successes;
          out.rejectedEvents += answer.errors;
          out.acceptedBytes += Buffer.byteLength(body);
          break;
        }
        if (answer.status === 503) {
          out.refused503++;
          out.retryAfterSeen ??= answer.retryAfterSeconds;
        } else out.failed++;
        if (shouldStop(answer)) {
          stop = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(maxRetryMillis, answer.retryAfterSeconds * 1000 || 100)));
      }
      if (shouldStop()) stop = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return out;
}

/**
 * Fires bodies of `batch` events at `eventsPerSecond` for `seconds`. Latency: answer time minus
 * scheduled time. `onInterval(summary)` every `intervalSeconds` with that interval's latencies.
 * Requests whose answer is not a 207 are counted, not retried. At most `maxInFlight` at once
 * (beyond it the schedule slips, and the slip shows in the latencies).
 */
export async function openLoop({ baseUrl, stream, eventsPerSecond, batch, seconds, warmupSeconds = 0, intervalSeconds = 0, onInterval, maxInFlight = 2000 }) {
  const perSecond = eventsPerSecond / batch;
  const out = { accepted: 0, rejectedEvents: 0, non207: 0, failed: 0, failures: {}, requests: 0, latencies: [], serviceLatencies: [] };
  let interval = [];
  let inFlight = 0;
  const pending = new Set();
  const start = performance.now();
  let nextReport = start + intervalSeconds * 1000;
  let sent = 0;
  const fire = (scheduledAt) => {
    inFlight++;
    const body = stream.next(batch);
    const p = postBody(baseUrl, body).then((answer) => {
      inFlight--;
      const latency = performance.now() - scheduledAt;
      out.requests++;
      if (answer.status === 207) {
        out.accepted += answer.successes;
        out.rejectedEvents += answer.errors;
      } else if (answer.status === 0) {
        out.failed++;
        out.failures[answer.error] = (out.failures[answer.error] ?? 0) + 1;
      } else out.non207++;
      if (scheduledAt - start >= warmupSeconds * 1000) {
        out.latencies.push(latency);
        out.serviceLatencies.push(answer.latencyMillis);
      }
      interval.push(latency);
      pending.delete(p);
    });
    pending.add(p);
  };
  for (;;) {
    const now = performance.now();
    const elapsed = (now - start) / 1000;
    if (elapsed >= seconds) break;
    const due = Math.floor(elapsed * perSecond) + 1;
    while (sent < due && inFlight < maxInFlight) {
      fire(start + (sent / perSecond) * 1000);
      sent++;
    }
    if (intervalSeconds > 0 && now >= nextReport) {
      nextReport += intervalSeconds * 1000;
      const summary = { atSeconds: Math.round(elapsed), ...latencySummary(interval), inFlight };
      interval = [];
      await onInterval?.(summary);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  out.scheduled = sent;
  return out;
}
