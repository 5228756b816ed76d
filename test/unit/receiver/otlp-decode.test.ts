// Decoding ExportTraceServiceRequest bodies: protobuf (made by the official serializer) and
// OTLP/JSON with its spellings, into the plain OtlpTraceRequest; answers in both encodings.
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';

import { decodeTraceRequest, encodeStatus, encodeTraceResponse, OtlpDecodeError } from '../../../src/receiver/otlp-decode.js';

function sdkSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const span = provider.getTracer('scope-a', '1.0.0').startSpan(
    'op',
    { kind: SpanKind.CLIENT, attributes: { s: 'x', i: 42, d: 1.5, b: true, list: ['a', 'b'], big: 2 ** 40 } },
    ROOT_CONTEXT,
  );
  span.setStatus({ code: 2, message: 'bad' });
  span.end();
  return exporter.getFinishedSpans();
}

describe('decodeTraceRequest', () => {
  it('protobuf and JSON from the official serializers decode to the same request', () => {
    const spans = sdkSpans();
    const fromProto = decodeTraceRequest(ProtobufTraceSerializer.serializeRequest(spans)!, 'protobuf');
    const fromJson = decodeTraceRequest(JsonTraceSerializer.serializeRequest(spans)!, 'json');
    expect(fromProto).toEqual(fromJson);
    const decoded = fromProto.resourceSpans[0]!.scopeSpans[0]!;
    expect(decoded.scope).toEqual({ name: 'scope-a', version: '1.0.0' });
    const span = spans[0]!;
    expect(decoded.spans[0]).toEqual({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      name: 'op',
      kind: 3,
      startTimeUnixNano: expect.stringMatching(/^\d{19}$/),
      endTimeUnixNano: expect.stringMatching(/^\d{19}$/),
      attributes: { s: 'x', i: 42, d: 1.5, b: true, list: ['a', 'b'], big: 2 ** 40 },
      status: { code: 2, message: 'bad' },
    });
  });

  it('reads OTLP/JSON spellings: enum names, base64 ids, kvlists, string int64s, NaN', () => {
    const body = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }] },
          scopeSpans: [
            {
              scope: { name: 's' },
              spans: [
                {
                  traceId: Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex').toString('base64'),
                  spanId: 'B7AD6B7169203331',
                  parentSpanId: '',
                  name: 'n',
                  kind: 'SPAN_KIND_SERVER',
                  startTimeUnixNano: 1764590400000000000, // a number, not the spec's string: still read (this one survives JSON.parse exactly)
                  endTimeUnixNano: '1764590401000000000',
                  attributes: [
                    { key: 'kv', value: { kvlistValue: { values: [{ key: 'a', value: { intValue: '7' } }] } } },
                    { key: 'nan', value: { doubleValue: 'NaN' } },
                    { key: 'huge', value: { intValue: '9223372036854775807' } },
                  ],
                  status: { code: 'STATUS_CODE_OK' },
                },
                { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '0000000000000000' },
                { traceId: 'nope', spanId: 'b7ad6b7169203331' },
              ],
            },
          ],
        },
      ],
    });
    const request = decodeTraceRequest(Buffer.from(body), 'json');
    expect(request.resourceSpans[0]!.resource).toEqual({ 'service.name': 'svc' });
    const [good, zero, bad] = request.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(good).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      name: 'n',
      kind: 2,
      startTimeUnixNano: '1764590400000000000',
      endTimeUnixNano: '1764590401000000000',
      attributes: { kv: { a: 7 }, nan: 'NaN', huge: '9223372036854775807' },
      status: { code: 1 },
    });
    expect(zero).toEqual({ invalid: expect.stringContaining('spanId') });
    expect(bad).toEqual({ invalid: expect.stringContaining('traceId') });
  });

  it('throws OtlpDecodeError for bodies that are not a request', () => {
    expect(() => decodeTraceRequest(Buffer.from([0x0a, 0xff]), 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(Buffer.from('[1]'), 'json')).toThrow('the body must be an ExportTraceServiceRequest object');
    expect(() => decodeTraceRequest(Buffer.from('{"resourceSpans":[{"scopeSpans":{}}]}'), 'json')).toThrow('resourceSpans[0].scopeSpans must be an array');
  });
});

describe('answers', () => {
  it('ExportTraceServiceResponse: empty on full success, partial_success otherwise, read back by the official deserializer', () => {
    expect((encodeTraceResponse('protobuf', 0, '') as Uint8Array).length).toBe(0);
    expect(encodeTraceResponse('json', 0, '')).toBe('{}');
    const partial = ProtobufTraceSerializer.deserializeResponse(encodeTraceResponse('protobuf', 2, 'why') as Uint8Array);
    expect(Number(partial.partialSuccess?.rejectedSpans)).toBe(2);
    expect(partial.partialSuccess?.errorMessage).toBe('why');
    expect(JSON.parse(encodeTraceResponse('json', 2, 'why') as string)).toEqual({ partialSuccess: { rejectedSpans: '2', errorMessage: 'why' } });
  });

  it('google.rpc.Status in both encodings', () => {
    expect(Buffer.from(encodeStatus('protobuf', 3, 'no') as Uint8Array)).toEqual(Buffer.from([0x08, 0x03, 0x12, 0x02, 0x6e, 0x6f]));
    expect(JSON.parse(encodeStatus('json', 3, 'no') as string)).toEqual({ code: 3, message: 'no' });
  });
});
