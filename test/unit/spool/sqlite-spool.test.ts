// The Spool contract (src/spool/spool.ts) on both stores, and what only the SQLite store promises:
// entries, sizes, tombstones and dead letters survive closing and reopening the data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';
import { createMemorySpool } from '../../../src/spool/memory-spool.js';
import type { Spool, SpoolEntry } from '../../../src/spool/spool.js';
import { openSqliteSpool } from '../../../src/spool/sqlite-spool.js';

let dataDir: string;
const open: Spool[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-spool-'));
});

afterEach(() => {
  for (const spool of open.splice(0)) spool.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function sqlite(): Spool {
  const spool = openSqliteSpool(dataDir);
  open.push(spool);
  return spool;
}

function reopen(spool: Spool): Spool {
  spool.close();
  return sqlite();
}

let counter = 0;
function events(n: number, text = 'x'): IngestionEvent[] {
  return Array.from({ length: n }, () => {
    counter++;
    return {
      id: `ev-${counter}`,
      type: 'span-create',
      timestamp: '2026-11-26T12:00:00.123456Z',
      body: { id: `span-${counter}`, name: `${text} ✓ "quoted" \u2028`, environment: 'default', metadata: { n: counter, nested: [1, { a: null }] } },
    } as unknown as IngestionEvent;
  });
}

function append(spool: Spool, n = 2, text?: string): SpoolEntry {
  return spool.append({ receivedAtMillis: 1_764_158_400_000 + counter, source: { sdkName: 'python', sdkIntegration: 'litellm' }, events: events(n, text) });
}

describe.each([
  ['sqlite', sqlite],
  ['memory', createMemorySpool],
] as const)('%s spool: the Spool contract', (_name, make) => {
  it('numbers entries in increasing order and sizes them as the stored JSON of their events', () => {
    const spool = make();
    const a = append(spool, 1);
    const b = append(spool, 3);
    expect(b.seq).toBeGreaterThan(a.seq);
    expect(a.bytes).toBe(Buffer.byteLength(JSON.stringify(a.events)));
    expect(spool.pendingBytes()).toBe(a.bytes + b.bytes);
    expect(spool.pendingEntries()).toBe(2);
  });

  it('replays every entry not released, in seq order, as appended', () => {
    const spool = make();
    const appended = [append(spool, 1), append(spool, 2), append(spool, 3)];
    expect(spool.replay()).toEqual(appended);
    spool.release([appended[1]!.seq]);
    expect(spool.replay()).toEqual([appended[0], appended[2]]);
  });

  it('release drops entries and their bytes; unknown and repeated seqs change nothing', () => {
    const spool = make();
    const a = append(spool);
    const b = append(spool);
    spool.release([a.seq, a.seq, 999_999]);
    expect(spool.pendingEntries()).toBe(1);
    expect(spool.pendingBytes()).toBe(b.bytes);
    spool.release([a.seq]);
    expect(spool.pendingBytes()).toBe(b.bytes);
    spool.release([b.seq]);
    expect(spool.pendingBytes()).toBe(0);
    expect(spool.pendingEntries()).toBe(0);
    expect(spool.replay()).toEqual([]);
  });

  it('tombstones: unknown keys are absent; a written one holds its envelope ids; prune forgets older ones', () => {
    const spool = make();
    expect(spool.getTombstone('obs:never')).toBeUndefined();
    spool.addTombstones(
      [
        { key: 'obs:a', envelopeIds: ['e1', 'e2'] },
        { key: 'trace:t', envelopeIds: [] },
      ],
      1_000,
    );
    spool.addTombstones([{ key: 'score:s', envelopeIds: ['e3'] }], 5_000);
    expect([...(spool.getTombstone('obs:a') ?? [])].sort()).toEqual(['e1', 'e2']);
    // A root exported without trace-create events still counts as exported.
    expect(spool.getTombstone('trace:t')).toEqual(new Set());
    // Writing the same tombstone again (a replay after kill -9 exports the entity again) is harmless.
    spool.addTombstones([{ key: 'obs:a', envelopeIds: ['e1', 'e2'] }], 1_000);
    expect([...(spool.getTombstone('obs:a') ?? [])].sort()).toEqual(['e1', 'e2']);
    expect(spool.pruneTombstones(4_999)).toBe(2);
    expect(spool.getTombstone('obs:a')).toBeUndefined();
    expect(spool.getTombstone('trace:t')).toBeUndefined();
    expect(spool.getTombstone('score:s')).toEqual(new Set(['e3']));
    expect(spool.pruneTombstones(4_999)).toBe(0);
  });

  it('dead letters: listed in order, taken by id or all at once', () => {
    const spool = make();
    spool.addDeadLetter('HTTP 400: bad span', '[{"name":"a"}]', 1, 10);
    spool.addDeadLetter('HTTP 413', '[{"name":"b"},{"name":"c"}]', 2, 20);
    spool.addDeadLetter('HTTP 400', '[]', 0, 30);
    const listed = spool.listDeadLetters();
    expect(listed.map((d) => [d.reason, d.spanCount, d.createdAtMillis])).toEqual([
      ['HTTP 400: bad span', 1, 10],
      ['HTTP 413', 2, 20],
      ['HTTP 400', 0, 30],
    ]);
    expect(listed[1]!.payload).toBe('[{"name":"b"},{"name":"c"}]');
    const taken = spool.takeDeadLetters([listed[1]!.id, 424242]);
    expect(taken.map((d) => d.reason)).toEqual(['HTTP 413']);
    expect(spool.listDeadLetters().map((d) => d.reason)).toEqual(['HTTP 400: bad span', 'HTTP 400']);
    expect(spool.takeDeadLetters().map((d) => d.reason)).toEqual(['HTTP 400: bad span', 'HTTP 400']);
    expect(spool.listDeadLetters()).toEqual([]);
    expect(spool.takeDeadLetters()).toEqual([]);
  });
});

describe('sqlite spool: what survives closing and reopening the data directory', () => {
  it('is durable (the pipeline may leave entries for the next start); the memory spool is not', () => {
    expect(sqlite().durable).toBe(true);
    expect(createMemorySpool().durable).toBe(false);
  });

  it('entries, their order, content and sizes; released ones stay gone', () => {
    let spool = sqlite();
    const a = append(spool, 1, 'first');
    const b = append(spool, 4, 'second');
    const c = append(spool, 2, 'third');
    spool.release([b.seq]);
    spool = reopen(spool);
    expect(spool.replay()).toEqual([a, c]);
    expect(spool.pendingEntries()).toBe(2);
    expect(spool.pendingBytes()).toBe(a.bytes + c.bytes);
    spool.release([a.seq]);
    spool = reopen(spool);
    expect(spool.replay()).toEqual([c]);
    expect(spool.pendingBytes()).toBe(c.bytes);
  });

  it('never reuses a seq, even after the last entry was released and the store reopened', () => {
    let spool = sqlite();
    const a = append(spool);
    const b = append(spool);
    spool.release([a.seq, b.seq]);
    spool = reopen(spool);
    expect(append(spool).seq).toBeGreaterThan(b.seq);
  });

  it('tombstones (also through the key filter rebuilt at open) and their prune times', () => {
    let spool = sqlite();
    spool.addTombstones([{ key: 'obs:a', envelopeIds: ['e1'] }], 1_000);
    spool.addTombstones([{ key: 'trace:t', envelopeIds: ['e2', 'e3'] }], 3_000);
    spool = reopen(spool);
    expect(spool.getTombstone('obs:a')).toEqual(new Set(['e1']));
    expect(spool.getTombstone('trace:t')).toEqual(new Set(['e2', 'e3']));
    expect(spool.getTombstone('obs:b')).toBeUndefined();
    expect(spool.pruneTombstones(2_000)).toBe(1);
    spool = reopen(spool);
    expect(spool.getTombstone('obs:a')).toBeUndefined();
    expect(spool.getTombstone('trace:t')).toEqual(new Set(['e2', 'e3']));
  });

  it('dead letters, and a take is final', () => {
    let spool = sqlite();
    spool.addDeadLetter('HTTP 400', '[{"name":"a"}]', 1, 10);
    spool.addDeadLetter('HTTP 422', '[{"name":"b"}]', 1, 20);
    spool = reopen(spool);
    const [first] = spool.listDeadLetters();
    expect(spool.takeDeadLetters([first!.id]).map((d) => d.reason)).toEqual(['HTTP 400']);
    spool = reopen(spool);
    expect(spool.listDeadLetters().map((d) => [d.reason, d.payload, d.spanCount, d.createdAtMillis])).toEqual([['HTTP 422', '[{"name":"b"}]', 1, 20]]);
  });

  it('a second process opening the same directory sees every committed entry (WAL, as after kill -9)', () => {
    const writer = sqlite();
    const a = append(writer, 3);
    // No close(): the writer is still open, as a killed process would have left it.
    const reader = openSqliteSpool(dataDir);
    open.push(reader);
    expect(reader.replay()).toEqual([a]);
    expect(reader.pendingBytes()).toBe(a.bytes);
  });

  it('creates the data directory when it does not exist', () => {
    const nested = path.join(dataDir, 'deeper', 'still');
    const spool = openSqliteSpool(nested);
    open.push(spool);
    expect(append(spool).seq).toBe(1);
  });
});
