// A first run with nothing listening: the export worker (real memory queue, manual clock) says
// once what is wrong and what to set, then one summary line per interval instead of a line per
// retry; the metrics still count every attempt; the first success says the export recovered.
import { describe, expect, it } from 'vitest';
import type { ExportOutcome } from '../../../src/export/export-outcome.js';
import type { QueueSink } from '../../../src/export/span-sink.js';
import { createLogger } from '../../../src/logger.js';
import { createMetrics } from '../../../src/metrics.js';
import { createExportWorker } from '../../../src/pipeline/export-worker.js';
import { createMemoryExportStore } from '../../../src/spool/memory-export-queue.js';
import { createManualClock } from '../../helpers/manual-clock.js';

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}
const WARN = 40;
const HINT = 'Nothing answers at http://localhost:4318/v1/traces: set OTEL_EXPORTER_OTLP_ENDPOINT';

function setup(answer: () => ExportOutcome) {
  const lines: LogLine[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const clock = createManualClock(1_000_000);
  const queue = createMemoryExportStore().queue;
  const metrics = createMetrics();
  const sink: QueueSink & { attempts: number; answer: () => ExportOutcome } = {
    attempts: 0,
    answer,
    async send() {
      sink.attempts++;
      return sink.answer();
    },
    async shutdown() {},
  };
  const worker = createExportWorker({
    destination: 'otlp',
    sink,
    queue,
    metrics,
    logger,
    clock,
    batchSize: 10,
    random: () => 0.5,
    connectHint: HINT,
    failureSummaryMillis: 60_000,
  });
  queue.commit({ items: [{ queue: 'otlp', payload: Buffer.from('a') }], tombstones: [] }, clock.now());
  worker.start();
  worker.wake();
  const failureCount = async () => {
    const metric = (await metrics.registry.getSingleMetric('bridge_export_failures_total')!.get()).values;
    return metric.reduce((n, v) => n + v.value, 0);
  };
  return { lines, clock, sink, worker, failureCount, warnings: () => lines.filter((l) => l.level >= WARN) };
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

const refused: ExportOutcome = { kind: 'retryable', reason: 'network error: ECONNREFUSED' };

describe('export failures in the log', () => {
  it('with no backend: one warning naming what to set in the first 30 s, then one summary per minute; every attempt counted', async () => {
    const { clock, sink, worker, failureCount, warnings } = setup(() => refused);
    await settle();
    await clock.advance(30_000);
    expect(sink.attempts).toBeGreaterThanOrEqual(5);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.msg).toContain("cannot reach the backend of destination 'otlp'");
    // The hint is the destination's (config writes it: tested there and with the real process).
    expect(warnings()[0]!.msg).toContain(HINT);

    await clock.advance(5 * 60_000);
    const summaries = warnings().slice(1);
    expect(summaries.length).toBeGreaterThanOrEqual(4);
    expect(summaries.length).toBeLessThanOrEqual(6);
    for (const s of summaries) expect(s).toMatchObject({ msg: 'exports still failing; will retry', reasons: { 'network error: ECONNREFUSED': expect.any(Number) } });
    const summed = summaries.reduce((n, s) => n + (s['failedAttempts'] as number), 0);
    // The metric counts every attempt; the log only summed them up.
    expect(await failureCount()).toBe(sink.attempts);
    expect(sink.attempts).toBeGreaterThan(warnings().length);
    expect(summed).toBeLessThanOrEqual(sink.attempts - 1);
    await worker.shutdown(0);
  });

  it('says once that the export recovered, and warns afresh at the next outage', async () => {
    const { clock, sink, worker, lines, warnings } = setup(() => refused);
    await settle();
    await clock.advance(10_000);
    sink.answer = () => ({ kind: 'success', rejectedSpans: 0 });
    await clock.advance(30_000);
    expect(lines.filter((l) => l.msg === 'export recovered')).toEqual([expect.objectContaining({ destination: 'otlp', failedAttempts: expect.any(Number) })]);
    expect(warnings()).toHaveLength(1);
    await worker.shutdown(0);
  });

  it('another failure (a 503) is reported plainly, without the connection hint', async () => {
    const { clock, sink, worker, warnings } = setup(() => ({ kind: 'retryable', reason: 'HTTP 503', retryAfterMillis: 1000 }));
    await settle();
    await clock.advance(20_000);
    expect(sink.attempts).toBeGreaterThan(3);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]!.msg).toMatch(/^export failed; will retry/);
    expect(warnings()[0]!.msg).not.toContain('Nothing answers');
    await worker.shutdown(0);
  });
});
