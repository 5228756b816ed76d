// Dead letters know what they hold (src/cli/dead-letters.ts): queue payloads are resent through
// their queue's sink; a record that could not be mapped is mapped again with the destination's
// mapping and sent only then, never as it is; what still fails stays. Real memory queue, real
// console destinations (their sink writes where the test reads).
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord } from '../../../src/assembly/record-codec.js';
import { listDeadLetters, retryDeadLetters } from '../../../src/cli/dead-letters.js';
import { createMemoryExportStore } from '../../../src/spool/memory-export-queue.js';
import { createDestinations } from '../../../src/service.js';
import { makeDraft } from '../../helpers/make-draft.js';
import { observationRecord } from '../../helpers/records.js';
import { createSilentLogger } from '../../helpers/silent-logger.js';

// Without input: the genai mapping names it `text_completion <model>`.
const observation = observationRecord({ startTimeNanos: 1737566350957072123n, input: undefined });

function setup() {
  const written: string[] = [];
  const built = createDestinations(
    { destinations: [{ type: 'console', name: 'console', mapping: 'genai', captureContent: true }], resourceAttributes: {}, estimateCost: false },
    { writeConsole: (text) => written.push(text) },
  );
  const { queue } = createMemoryExportStore();
  return { written, built, queue };
}

describe('record codec', () => {
  it('round-trips a record with its nanosecond times as bigints', () => {
    expect(decodeRecord(encodeRecord(observation))).toEqual(observation);
  });
});

describe('dead letters', () => {
  it('lists what each letter holds', () => {
    const { queue } = setup();
    queue.commit({ items: [], tombstones: [], deadLetters: [{ destination: 'console', holds: 'record', reason: 'could not map', payloads: [Buffer.from(encodeRecord(observation))], spanCount: 1 }] }, 0);
    const lines: string[] = [];
    expect(listDeadLetters(queue, (line) => lines.push(line))).toBe(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ destination: 'console', holds: 'record', spans: 1, reason: 'could not map' });
  });

  it('re-maps a record on retry and sends the mapped span; resends queue payloads as they are', async () => {
    const { written, built, queue } = setup();
    const payload = built.pipelineDestinations[0]!.encodeSpan(makeDraft({ traceId: 'trace-2', parent: { type: 'root', traceId: 'trace-2' }, name: 'queued span' }));
    queue.commit({ items: [{ queue: 'console', payload }], tombstones: [] }, 0);
    queue.dequeue([queue.peek('console', 0, 1)[0]!.id], { destination: 'console', reason: 'HTTP 400', atMillis: 1 });
    queue.commit({ items: [], tombstones: [], deadLetters: [{ destination: 'console', holds: 'record', reason: 'could not map', payloads: [Buffer.from(encodeRecord(observation))], spanCount: 1 }] }, 2);
    expect(queue.listDeadLetters().map((l) => l.holds)).toEqual(['payloads', 'record']);

    expect(await retryDeadLetters(queue, built, createSilentLogger())).toBe(0);
    expect(queue.deadLetterCount()).toBe(0);
    const printed = written.join('');
    expect(printed).toContain('queued span');
    // The record went through the genai mapping: a span named after its operation and model.
    expect(printed).toContain('text_completion gpt-4o  [CLIENT]');
    expect(printed).toContain('langfuse.observation.id = "gen-1"');
    expect(printed).not.toContain('"kind":"observation"');
  });

  it('keeps a record that still cannot be mapped, and never sends it', async () => {
    const { written, built, queue } = setup();
    queue.commit({ items: [], tombstones: [], deadLetters: [{ destination: 'console', holds: 'record', reason: 'could not map', payloads: [Buffer.from('{not json')], spanCount: 1 }] }, 0);
    queue.commit({ items: [], tombstones: [], deadLetters: [{ destination: 'gone', holds: 'record', reason: 'could not map', payloads: [Buffer.from(encodeRecord(observation))], spanCount: 1 }] }, 0);
    expect(await retryDeadLetters(queue, built, createSilentLogger())).toBe(2);
    expect(queue.deadLetterCount()).toBe(2);
    expect(written).toEqual([]);
  });
});
