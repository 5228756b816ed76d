import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequest } from '../../../src/export/otlp-protobuf.js';
import { bridgeInstrumentationScope, createResourceCache, toReadableSpan } from '../../../src/export/to-readable-span.js';
import type { DraftAttributes, SpanDraft } from '../../../src/mapping/span-draft.js';
import { makeDraft } from '../../helpers/make-draft.js';

const scope = bridgeInstrumentationScope('1.2.3');

const draft = makeDraft;

function bothEncodings(drafts: SpanDraft[]) {
  const resources = createResourceCache({ 'deployment.environment.name': 'test' });
  const spans = drafts.map((d) => toReadableSpan(d, resources.resourceFor(d.resource), scope));
  return { ours: Buffer.from(encodeTraceRequest(spans)), official: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!) };
}

describe('encodeTraceRequest', () => {
  it.each<[string, SpanDraft[]]>([
    ['one span', [draft()]],
    ['a root without parent, INTERNAL', [draft({ parent: undefined, kind: 'INTERNAL', span: { type: 'root', traceId: 'trace-1' } })]],
    ['times at both ends of the range (clamped, year 9999 included)', [draft({ startTimeUnixNano: -5n, endTimeUnixNano: 253402300799999999999n })]],
    ['an error status with a message', [draft({ status: { code: 'ERROR', message: 'litellm.RateLimitError: slow down 🐢' } })]],
    [
      'every attribute type',
      [
        draft({
          attributes: {
            s: 'text',
            unicode: 'héllo 👋 世界',
            empty: '',
            i: 42,
            negative: -7,
            big: 2 ** 53 - 1,
            d: 0.000035,
            nd: -1.5,
            t: true,
            f: false,
            strings: ['a', 'bé'],
            numbers: [1, 2.5, -3],
            bools: [true, false],
            long: 'x'.repeat(20_000),
          },
        }),
      ],
    ],
    [
      'several resources and traces',
      [
        draft(),
        draft({ span: { type: 'observation', id: 'obs-2' }, resource: { 'service.name': 'langfuse' } }),
        draft({ traceId: 'other', span: { type: 'score', id: 's' }, parent: undefined }),
      ],
    ],
  ])('writes exactly what the official serializer writes: %s', (_case, drafts) => {
    const { ours, official } = bothEncodings(drafts);
    expect(ours.equals(official)).toBe(true);
  });

  it('matches the official serializer for arbitrary attributes (property)', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer(), { minLength: 1, maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), value, { maxKeys: 12 }), fc.string({ unit: 'grapheme' }), (attributes, name) => {
        const { ours, official } = bothEncodings([draft({ attributes: attributes as DraftAttributes, name })]);
        expect(ours.equals(official)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
