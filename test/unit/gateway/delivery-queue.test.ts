import { describe, expect, it } from 'vitest';
import { DeliveryQueue } from '../../../src/gateway/delivery-queue.js';
import { decodeDeadLetter, encodeDeadLetter } from '../../../src/gateway/kafka-dead-letters.js';
import type { Ticket } from '../../../src/gateway/partition-assembly.js';
import type { NewDeadLetter } from '../../../src/spool/export-queue.js';

const ticket = (spans: number): Ticket => ({ partition: 0, unsettledSpans: spans, tombstones: [], releaseOffsets: [], unpinOffsets: [], marked: false, dropped: false });

function harness() {
  const settled: Ticket[] = [];
  const writes: Array<{ letter: NewDeadLetter; resolve: () => void; reject: (e: Error) => void }> = [];
  const queue = new DeliveryQueue(
    10,
    (t) => settled.push(t),
    (letter) => new Promise<void>((resolve, reject) => writes.push({ letter, resolve, reject })),
  );
  return { queue, settled, writes };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('DeliveryQueue', () => {
  it('a sent span settles its ticket at once', () => {
    const { queue, settled } = harness();
    const t = ticket(2);
    queue.add('out', new Uint8Array([1]), t);
    queue.add('out', new Uint8Array([2]), t);
    const ids = queue.peek('out', 0, 10).map((s) => s.id);
    queue.dequeue([ids[0]!]);
    expect(settled).toEqual([]);
    queue.dequeue([ids[1]!]);
    expect(settled).toEqual([t]);
  });

  it('refused spans leave the queue at once, and settle only once their dead letter is written', async () => {
    const { queue, settled, writes } = harness();
    const t = ticket(2);
    queue.add('out', new Uint8Array([1, 2]), t);
    queue.add('out', new Uint8Array([3]), t);
    queue.dequeue(queue.peek('out', 0, 10).map((s) => s.id), { destination: 'out', reason: 'HTTP 400: bad', atMillis: 5 });
    expect(queue.queuedItems('out')).toBe(0);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.letter).toMatchObject({ destination: 'out', holds: 'payloads', reason: 'HTTP 400: bad', spanCount: 2 });
    expect(writes[0]!.letter.payloads.map((p) => [...p])).toEqual([[1, 2], [3]]);
    await flush();
    expect(settled).toEqual([]);
    writes[0]!.resolve();
    await flush();
    expect(settled).toEqual([t]);
  });

  it('a letter never written (shut down first) leaves its ticket unsettled: the offset waits', async () => {
    const { queue, settled, writes } = harness();
    const t = ticket(1);
    queue.deadLetterRecord({ destination: 'out', holds: 'record', reason: 'could not map', payloads: [new Uint8Array([123])], spanCount: 1 }, 1, t);
    writes[0]!.reject(new Error('shut down'));
    await flush();
    expect(settled).toEqual([]);
    expect(t.unsettledSpans).toBe(1);
  });
});

describe('dead letter records', () => {
  it('round-trip: destination, holds, reason, payloads', () => {
    const letter: NewDeadLetter = { destination: 'lf@acme#scores', holds: 'payloads', reason: 'HTTP 400', payloads: [new Uint8Array([0, 255, 7]), new Uint8Array(new ArrayBuffer(8), 2, 3)], spanCount: 2 };
    const back = decodeDeadLetter('0:7', encodeDeadLetter(letter, 1234));
    expect(back).toMatchObject({ id: '0:7', createdAtMillis: 1234, destination: 'lf@acme#scores', holds: 'payloads', reason: 'HTTP 400', spanCount: 2 });
    expect('payloads' in back && back.payloads.map((p) => [...p])).toEqual([[0, 255, 7], [0, 0, 0]]);
  });

  it('an unreadable record says why', () => {
    expect(decodeDeadLetter('0:1', Buffer.from('{'))).toMatchObject({ unreadable: expect.stringContaining('not JSON') });
    expect(decodeDeadLetter('0:1', Buffer.from('{"v":9}'))).toMatchObject({ unreadable: expect.stringContaining('version 9') });
    expect(decodeDeadLetter('0:1', null)).toEqual({ unreadable: 'empty record' });
  });
});
