// The Assembler (src/assembly/assembler.ts) on its own, with a memory log and export store and
// driven time: Langfuse's merge order across requests (an update that overtakes its create is
// refolded from the log), release bookkeeping (an entry is released once every entity it holds
// is queued, at once when it holds only duplicates), and late updates (a new envelope for an
// entity already queued is counted, not exported again).
import { describe, expect, it } from 'vitest';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
import { createAssemblyHarness } from '../../helpers/assembly.js';
import { envelope } from '../../helpers/ingestion-events.js';

const IDLE = 1_000;
const T0 = Date.parse('2026-11-26T12:00:00Z');
const at = (millis: number) => new Date(T0 + millis).toISOString();

function events(raw: unknown[]): IngestionEvent[] {
  const { accepted, rejected } = validateBatch(raw);
  expect(rejected).toEqual([]);
  return accepted;
}

function setup() {
  const h = createAssemblyHarness(IDLE);
  return { ...h, feed: (raw: unknown[], now: number, tenant?: string) => h.feed(events(raw), T0 + now, tenant), settle: (now: number) => h.settle(T0 + now) };
}

const trace = (id: string, ms: number, body: Record<string, unknown> = {}) => envelope('trace-create', { id, name: 'chat', ...body }, { id: `env-${id}-${ms}`, timestamp: at(ms) });
const gen = (id: string, traceId: string, ms: number, body: Record<string, unknown> = {}, envelopeId = `env-${id}-${ms}`) =>
  envelope('generation-create', { id, traceId, name: 'llm', startTime: at(0), ...body }, { id: envelopeId, timestamp: at(ms) });
const genUpdate = (id: string, traceId: string, ms: number, body: Record<string, unknown>) =>
  envelope('generation-update', { id, traceId, ...body }, { id: `env-${id}-upd-${ms}`, timestamp: at(ms) });

describe('assembler', () => {
  it('keeps tenants apart when both send the same ids, also for traces whose payloads were dropped while open', () => {
    const h = setup();
    // Both traces stay open after the first request (their generation has no end), so their folds
    // drop payloads and are read back from the log at completion, one tenant's entries each.
    for (const tenant of ['team-a', 'team-b']) {
      h.feed([trace('same', 0, { name: `root-${tenant}`, input: `asked by ${tenant}` }), gen('g', 'same', 0, { input: `in-${tenant}` }, `env-${tenant}`)], 0, tenant);
    }
    for (const tenant of ['team-a', 'team-b']) {
      h.feed([{ ...genUpdate('g', 'same', 5, { endTime: at(6), output: `out-${tenant}` }), id: `env-upd-${tenant}` }], 5, tenant);
    }
    const { records } = h.settle(5 + IDLE + 1);
    const traces = records.flatMap((r) => (r.kind === 'root' ? [`${r.source.tenant}:${r.trace?.name}:${String(r.trace?.input)}`] : []));
    expect(traces.sort()).toEqual(['team-a:root-team-a:asked by team-a', 'team-b:root-team-b:asked by team-b']);
    const generations = records.flatMap((r) => (r.kind === 'observation' ? [`${r.source.tenant}:${String(r.observation.input)}:${String(r.observation.output)}:${r.trace?.name}`] : []));
    expect(generations.sort()).toEqual(['team-a:in-team-a:out-team-a:root-team-a', 'team-b:in-team-b:out-team-b:root-team-b']);
  });

  it('merges in Langfuse order across requests: an update that overtook its create is refolded from the log', () => {
    const h = setup();
    // The update (later timestamp) arrives first, then the create (earlier timestamp) in another request.
    h.feed([trace('t1', 0), genUpdate('g1', 't1', 20, { output: 'done', endTime: at(30), model: 'gpt-4o' })], 0);
    const late = h.feed([gen('g1', 't1', 10, { model: 'gpt-3.5', input: 'hi' })], 5);
    expect(late.result.refolds).toBe(1);
    const { records } = h.settle(5 + IDLE + 1);
    const observation = records.find((r) => r.kind === 'observation');
    if (observation?.kind !== 'observation') throw new Error('expected the generation');
    // The update's fields win over the create's, whatever the arrival order.
    expect(observation.observation).toMatchObject({ id: 'g1', model: 'gpt-4o', input: 'hi', output: 'done' });
  });

  it('releases an entry only once every entity it holds is queued', () => {
    const h = setup();
    const first = h.feed([trace('t1', 0), gen('g1', 't1', 0, { endTime: at(1) })], 0);
    const second = h.feed([gen('g2', 't1', 2, { endTime: at(3) })], 2);
    expect(first.result.releasable).toBe(false);
    expect(second.result.releasable).toBe(false);
    // Before the trace is idle, the ended generations are queued but the trace holds entry one.
    const early = h.settle(10);
    expect(early.releaseSeqs).toEqual([second.entry.seq]);
    expect(h.log.pendingEntries()).toBe(1);
    const late = h.settle(2 + IDLE + 1);
    expect(late.releaseSeqs).toEqual([first.entry.seq]);
    expect(h.log.pendingEntries()).toBe(0);
    expect(h.assembler.pendingEntities()).toBe(0);
  });

  it('counts a resend of queued events as duplicates (entry released at once), and new envelopes as late updates', () => {
    const h = setup();
    const raw = [trace('t1', 0), gen('g1', 't1', 0, { endTime: at(1) })];
    h.feed(raw, 0);
    h.settle(IDLE + 1);
    expect(h.assembler.pendingEntities()).toBe(0);
    const resend = h.feed(raw, IDLE + 5);
    expect(resend.result).toMatchObject({ duplicates: 2, lateUpdates: 0, releasable: true });
    const update = h.feed([genUpdate('g1', 't1', 50, { output: 'too late' })], IDLE + 6);
    expect(update.result).toMatchObject({ duplicates: 0, lateUpdates: 1, releasable: true });
    // Nothing is exported again; what bookkeeping the trace kept is gone once it is idle.
    expect(h.settle(3 * IDLE).records).toEqual([]);
    expect(h.assembler.pendingEntities()).toBe(0);
    expect(h.log.pendingEntries()).toBe(0);
  });
});
