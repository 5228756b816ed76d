// Whatever the arrival order and the split into requests, what the Assembler hands out equals
// Langfuse's merge of all the events (merge.ts's mergeObservationEvents/mergeTraceEvents over the
// whole set), through every path of the open state: in-order folds, refolds after an event that
// arrived late, payloads dropped while open and read back (from a log that keeps only JSON text,
// as on disk), the per-entry index of a read-back, traces kept whole for a ready observation.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Assembler } from '../../../src/assembly/assembler.js';
import { mergeObservationEvents, mergeTraceEvents } from '../../../src/assembly/merge.js';
import type { IngestionEvent, ObservationEvent, TraceEvent } from '../../../src/ingestion/ingestion-event.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { readStoredEvent, storeEvents, type LogEntry, type StoredEvents } from '../../../src/spool/request-log.js';

const at = (second: number) => `2026-12-07T10:00:0${second}.000Z`;

/** A log of JSON text: every read parses the events asked for again, as the SQLite log does. */
function textLog() {
  const rows = new Map<number, StoredEvents>();
  let next = 1;
  return {
    append(events: IngestionEvent[]): LogEntry {
      const stored = storeEvents(events);
      const seq = next++;
      rows.set(seq, stored);
      return { seq, receivedAtMillis: 0, source: {}, events: JSON.parse(stored.text.toString('utf8')) as IngestionEvent[], bytes: stored.text.length };
    },
    readEvents(seq: number, indices: readonly number[]): IngestionEvent[] {
      const row = rows.get(seq);
      return row === undefined ? [] : indices.map((index) => readStoredEvent(row.text, row.ends, index));
    },
  };
}

const payload = fc.option(fc.oneof(fc.string({ maxLength: 6 }), fc.record({ text: fc.string({ maxLength: 4 }) })), { nil: undefined });
const metadata = fc.option(fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.oneof(fc.integer({ min: 0, max: 3 }), fc.record({ x: fc.integer({ min: 0, max: 3 }) }))), { nil: undefined });
const second = fc.integer({ min: 0, max: 9 });

const traceEvents = fc.array(
  fc.record({ second, name: fc.option(fc.constantFrom('chat', 'agent'), { nil: undefined }), input: payload, output: payload, metadata, tags: fc.array(fc.constantFrom('x', 'y', 'z'), { maxLength: 2 }) }),
  { maxLength: 3 },
);
const observationEvents = fc.array(
  fc.record({ second, update: fc.boolean(), ended: fc.boolean(), input: payload, output: payload, metadata, model: fc.option(fc.constantFrom('m1', 'm2'), { nil: undefined }) }),
  { minLength: 1, maxLength: 3 },
);
const scenario = fc.record({
  traces: fc.array(fc.record({ events: traceEvents, observations: fc.array(observationEvents, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 }),
  /** Arrival order: a sort key per event. */
  order: fc.array(fc.integer(), { minLength: 40, maxLength: 40 }),
  /** Where the stream is cut into requests. */
  cuts: fc.array(fc.integer({ min: 1, max: 39 }), { maxLength: 4 }),
});

it('hands out Langfuse’s merge of every event, whatever the arrival order and the split into requests', () => {
  fc.assert(
    fc.property(scenario, ({ traces, order, cuts }) => {
      const raw: unknown[] = [];
      let n = 0;
      traces.forEach((t, i) => {
        for (const e of t.events) {
          raw.push({ id: `e${n++}`, type: 'trace-create', timestamp: at(e.second), body: { id: `t${i}`, name: e.name, input: e.input, output: e.output, metadata: e.metadata, tags: e.tags } });
        }
        t.observations.forEach((events, j) => {
          for (const e of events) {
            raw.push({
              id: `e${n++}`,
              type: e.update ? 'generation-update' : 'generation-create',
              timestamp: at(e.second),
              body: { id: `o${i}-${j}`, traceId: `t${i}`, startTime: at(0), ...(e.ended ? { endTime: at(9) } : {}), input: e.input, output: e.output, metadata: e.metadata, model: e.model },
            });
          }
        });
      });
      // Through JSON text, as a body arrives (plain objects, no undefined fields).
      const { accepted, rejected } = validateBatch(JSON.parse(JSON.stringify(raw)) as unknown[]);
      expect(rejected).toEqual([]);
      const arrival = accepted.map((event, k) => ({ event, key: order[k % order.length]! * 64 + k })).sort((a, b) => a.key - b.key).map((x) => x.event);

      const log = textLog();
      const assembler = new Assembler({ traceIdleMillis: 1_000, observationTimeoutMillis: 60_000, exportedEnvelopeIds: () => undefined, readEvents: (seq, indices) => log.readEvents(seq, indices) });
      const bounds = [...new Set([0, ...cuts.filter((c) => c < arrival.length), arrival.length])].sort((a, b) => a - b);
      for (let k = 1; k < bounds.length; k++) {
        const events = arrival.slice(bounds[k - 1], bounds[k]);
        if (events.length > 0) assembler.ingest(log.append(events), 0);
      }
      const { records } = assembler.collect(10_000, 1_000, 'all');

      // In arrival order: on equal timestamps and kinds, Langfuse's order is the arrival order.
      const traceEventsOf = (id: string) => arrival.filter((e): e is TraceEvent => e.type === 'trace-create' && e.body.id === id);
      const expectedTrace = (id: string) => (traceEventsOf(id).length > 0 ? mergeTraceEvents(id, traceEventsOf(id)) : undefined);
      let observations = 0;
      let roots = 0;
      for (const record of records) {
        if (record.kind === 'observation') {
          observations++;
          const id = record.observation.id;
          const own = arrival.filter((e): e is ObservationEvent => e.type !== 'trace-create' && e.body.id === id);
          expect(record.observation).toStrictEqual(mergeObservationEvents(id, own));
          expect(record.trace).toStrictEqual(expectedTrace(record.observation.traceId));
        } else if (record.kind === 'root') {
          roots++;
          expect(record.trace).toStrictEqual(expectedTrace(record.traceId));
        }
      }
      expect(observations).toBe(traces.reduce((sum, t) => sum + t.observations.length, 0));
      expect(roots).toBe(traces.length);
    }),
    { numRuns: 300 },
  );
});
