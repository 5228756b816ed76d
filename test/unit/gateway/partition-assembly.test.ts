import { describe, expect, it } from 'vitest';
import { PartitionAssembly, type Ticket } from '../../../src/gateway/partition-assembly.js';
import type { GatewayRecord } from '../../../src/gateway/gateway-record.js';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';

const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-12-01T10:00:00Z');

function record(events: IngestionEvent[]): GatewayRecord {
  return { key: 't', receivedAtMillis: T0, source: {}, events };
}
const traceCreate = (trace: string): IngestionEvent => ({ id: `${trace}-tc`, type: 'trace-create', timestamp: iso(T0), body: { id: trace, name: trace } }) as IngestionEvent;
const genCreate = (trace: string, gen: string): IngestionEvent =>
  ({ id: `${gen}-c`, type: 'generation-create', timestamp: iso(T0), body: { id: gen, traceId: trace, startTime: iso(T0), model: 'gpt-4o' } }) as IngestionEvent;
const genUpdate = (trace: string, gen: string, envelope = `${gen}-u`): IngestionEvent =>
  ({ id: envelope, type: 'generation-update', timestamp: iso(T0 + 10), body: { id: gen, traceId: trace, endTime: iso(T0 + 10), output: 'hi' } }) as IngestionEvent;

function partition(marked: Map<string, Set<string>> = new Map(), startOffset = 100) {
  return new PartitionAssembly({ partition: 3, startOffset, traceIdleMillis: 1000, observationTimeoutMillis: 60_000, markedEnvelopeIds: (key) => marked.get(key) });
}

/** Queues what is due (one span per record, one destination) and returns the ticket. */
function queueDue(p: PartitionAssembly, now: number): { ticket: Ticket; kinds: string[] } {
  const collected = p.collect(now, 1000, 'due');
  return { ticket: p.confirm(collected, collected.records.length), kinds: collected.records.map((r) => r.kind) };
}

/** Every span of the ticket acknowledged and its markers written. */
function acknowledge(p: PartitionAssembly, ticket: Ticket, lastMarkerOffset = 0): void {
  ticket.unsettledSpans = 0;
  p.marked(ticket, lastMarkerOffset);
  p.settle();
}

describe('PartitionAssembly: the commit rule', () => {
  it('commits past a record only once its entities and its trace root were acknowledged, not when merely queued', () => {
    const p = partition();
    expect(p.committableOffset()).toBe(100);
    p.ingest(100, record([traceCreate('t1'), genCreate('t1', 'g1')]), 50, 0);
    p.ingest(101, record([genUpdate('t1', 'g1')]), 50, 10);
    expect(p.committableOffset()).toBe(100);
    // The generation is complete at once; the root waits for the idle time.
    const first = queueDue(p, 20);
    expect(first.kinds).toEqual(['observation']);
    expect(p.committableOffset()).toBe(100);
    acknowledge(p, first.ticket);
    // The update's record held only the generation; the first record still holds the trace.
    expect(p.committableOffset()).toBe(100);
    const second = queueDue(p, 2000);
    expect(second.kinds).toEqual(['root']);
    expect(p.committableOffset()).toBe(100);
    acknowledge(p, second.ticket);
    expect(p.committableOffset()).toBe(102);
  });

  it('an earlier collection not yet acknowledged holds back a later acknowledged one', () => {
    const p = partition();
    p.ingest(100, record([genCreate('t1', 'g1'), genUpdate('t1', 'g1')]), 10, 0);
    const early = queueDue(p, 5);
    p.ingest(101, record([genCreate('t2', 'g2'), genUpdate('t2', 'g2')]), 10, 6);
    const late = queueDue(p, 7);
    acknowledge(p, late.ticket);
    expect(p.committableOffset()).toBe(100);
    acknowledge(p, early.ticket);
    // Both generations out; their traces' roots (synthetic, after the idle time) still hold the records.
    expect(p.committableOffset()).toBe(100);
    acknowledge(p, queueDue(p, 5000).ticket);
    expect(p.committableOffset()).toBe(102);
  });

  it('a ticket whose spans are acknowledged but whose markers are not written holds the offset', () => {
    const p = partition();
    p.ingest(100, record([traceCreate('t1'), genCreate('t1', 'g1'), genUpdate('t1', 'g1')]), 10, 0);
    const { ticket } = queueDue(p, 5000);
    ticket.unsettledSpans = 0;
    p.settle();
    expect(p.committableOffset()).toBe(100);
    expect(p.toMark()).toEqual([ticket]);
    p.marked(ticket, 7);
    p.settle();
    expect(p.committableOffset()).toBe(101);
  });

  it("a previous owner's markers make a resend a duplicate and a new envelope a late update, never a second span", () => {
    const marked = new Map([['obs:g1', new Set(['g1-c', 'g1-u'])]]);
    const p = partition(marked);
    const resend = p.ingest(100, record([genUpdate('t1', 'g1')]), 10, 0);
    expect(resend).toMatchObject({ duplicates: 1, lateUpdates: 0 });
    const late = p.ingest(101, record([genUpdate('t1', 'g1', 'g1-u2')]), 10, 0);
    expect(late).toMatchObject({ duplicates: 0, lateUpdates: 1 });
    const collected = p.collect(5000, 1000, 'due');
    expect(collected.records.filter((r) => r.kind === 'observation')).toEqual([]);
  });

  it('drop() forgets everything: nothing of a revoked partition is committed or collected', () => {
    const p = partition();
    p.ingest(100, record([traceCreate('t1'), genCreate('t1', 'g1'), genUpdate('t1', 'g1')]), 10, 0);
    const { ticket } = queueDue(p, 5);
    p.ingest(101, record([traceCreate('t2'), genCreate('t2', 'g2')]), 10, 6);
    expect(p.bytes()).toBe(20);
    p.drop();
    expect(ticket.dropped).toBe(true);
    expect(p.bytes()).toBe(0);
    expect(p.collect(10_000, 1000, 'all').records).toEqual([]);
  });

  it('forgets its own tombstones once the markers reader has read past them', () => {
    const marked = new Map<string, Set<string>>();
    const p = partition(marked);
    p.ingest(100, record([genCreate('t1', 'g1'), genUpdate('t1', 'g1')]), 10, 0);
    const { ticket } = queueDue(p, 5);
    acknowledge(p, ticket, 41);
    // Until the reader has the marker, the local tombstone answers.
    expect(p.ingest(101, record([genUpdate('t1', 'g1')]), 10, 6).duplicates).toBe(1);
    p.markersReadUpTo(41);
    expect(p.ingest(102, record([genUpdate('t1', 'g1', 'x')]), 10, 7).lateUpdates).toBe(1);
    p.markersReadUpTo(42);
    // Now only the reader's copy answers (empty here): the entity would look new.
    marked.set('obs:g1', new Set(['g1-c', 'g1-u']));
    expect(p.ingest(103, record([genUpdate('t1', 'g1')]), 10, 8).duplicates).toBe(1);
  });
});
