import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTraceRequest } from '../../../src/export/otlp-protobuf.js';
import { createSpanEncoder } from '../../../src/export/span-encoder.js';
import { bridgeInstrumentationScope, createResourceCache, toReadableSpan } from '../../../src/export/to-readable-span.js';
import type { DraftAttributes, SpanDraft } from '../../../src/mapping/span-draft.js';
import { makeDraft } from '../../helpers/make-draft.js';

const scope = bridgeInstrumentationScope('1.2.3');

const draft = makeDraft;

/** Attribute sets of every OTLP value type the bridge writes. */
const arbitraryAttributes = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.array(fc.string(), { minLength: 1, maxLength: 4 }),
    fc.array(fc.integer(), { minLength: 1, maxLength: 4 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 4 }),
  ),
  { maxKeys: 12 },
);

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
    fc.assert(
      fc.property(arbitraryAttributes, fc.string({ unit: 'grapheme' }), (attributes, name) => {
        const { ours, official } = bothEncodings([draft({ attributes: attributes as DraftAttributes, name })]);
        expect(ours.equals(official)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('createSpanEncoder (protobuf): one request per draft, straight from the draft', () => {
  const base = { 'deployment.environment.name': 'test' };
  const encoderOptions = { encoding: 'protobuf' as const, resourceAttributes: base, bridgeVersion: '1.2.3' };

  /** What the official serializer writes for the same draft, through the ReadableSpan path. */
  function official(d: SpanDraft, options: { tenantAttribute?: string; serviceNameOverride?: string; attributeValueLengthLimit?: number; attributeCountLimit?: number } = {}) {
    const resources = createResourceCache(base, options.serviceNameOverride);
    const resource = d.tenant !== undefined && options.tenantAttribute ? { ...d.resource, [options.tenantAttribute]: d.tenant } : d.resource;
    const spanScope = d.scope ? (d.scope.version ? { name: d.scope.name, version: d.scope.version } : { name: d.scope.name }) : scope;
    const limits = {
      ...(options.attributeValueLengthLimit === undefined ? {} : { attributeValueLengthLimit: options.attributeValueLengthLimit }),
      ...(options.attributeCountLimit === undefined ? {} : { attributeCountLimit: options.attributeCountLimit }),
    };
    return Buffer.from(ProtobufTraceSerializer.serializeRequest([toReadableSpan(d, resources.resourceFor(resource), spanScope, limits)])!);
  }

  it.each<[string, SpanDraft, Parameters<typeof official>[1]]>([
    ['a generation under its root', draft(), {}],
    ['a root span', draft({ parent: undefined, kind: 'INTERNAL', span: { type: 'root', traceId: 'trace-1' } }), {}],
    ['a score with an error status', draft({ span: { type: 'score', id: 's' }, status: { code: 'ERROR', message: 'boom 🐢' } }), {}],
    ['an OK status and an empty error message', draft({ status: { code: 'ERROR', message: '' } }), {}],
    ['clamped times, end before start', draft({ startTimeUnixNano: 253402300799999999999n, endTimeUnixNano: -1n }), {}],
    ['a tenant (hashed ids, tenant resource attribute)', draft({ tenant: 'acme' }), { tenantAttribute: 'langfuse.tenant' }],
    ['a sender scope with and without version', draft({ scope: { name: 'openinference', version: '2.0' } }), {}],
    ['a sender scope without version', draft({ scope: { name: 'openinference' } }), {}],
    ['OTEL_SERVICE_NAME over the resource', draft({ resource: { 'service.name': 'litellm', 'langfuse.sdk.name': 'python' } }), { serviceNameOverride: 'svc' }],
    [
      'attribute limits (length and count)',
      draft({ attributes: { 'gen_ai.request.model': 'gpt-4o', 'langfuse.observation.metadata.a': 'x'.repeat(50), 'langfuse.observation.type': 'generation', s: ['abcdef', 'é'.repeat(9)] } }),
      { attributeValueLengthLimit: 4, attributeCountLimit: 3 },
    ],
  ])('writes exactly what the official serializer writes: %s', (_case, d, options) => {
    const encode = createSpanEncoder({ ...encoderOptions, ...options });
    // Twice: the second request reuses the resource and scope bytes kept from the first.
    expect(Buffer.from(encode(d)).equals(official(d, options))).toBe(true);
    expect(Buffer.from(encode(d)).equals(official(d, options))).toBe(true);
  });

  it('matches the official serializer for arbitrary drafts (property)', () => {
    const encode = createSpanEncoder({ ...encoderOptions, tenantAttribute: 'langfuse.tenant' });
    fc.assert(
      fc.property(
        arbitraryAttributes,
        fc.dictionary(fc.constantFrom('service.name', 'langfuse.sdk.name', 'deployment.environment.name'), fc.string(), { maxKeys: 3 }),
        fc.string({ unit: 'grapheme' }),
        fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
        fc.bigInt({ min: -10n, max: 2n ** 64n + 10n }),
        fc.bigInt({ min: -10n, max: 2n ** 64n + 10n }),
        (attrs, resource, name, tenant, start, end) => {
          const d = draft({ attributes: attrs as DraftAttributes, resource, name, startTimeUnixNano: start, endTimeUnixNano: end, ...(tenant === undefined ? {} : { tenant }) });
          expect(Buffer.from(encode(d)).equals(official(d, { tenantAttribute: 'langfuse.tenant' }))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
