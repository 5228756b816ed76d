// OTLP/protobuf encoding of an ExportTraceServiceRequest from ReadableSpans, byte for byte what
// @opentelemetry/otlp-transformer's ProtobufTraceSerializer writes (a test holds it to that), but
// with strings sized and copied natively (Buffer.byteLength / Buffer.write) instead of one
// character at a time: LLM spans carry kilobytes of prompt text, and this was the hottest code of
// an export. Knows the protobuf wire format only; no HTTP, no Langfuse.
//
// Why hand-written, measured (bench/otlp-encode.mjs: 512 LLM-shaped spans of 3,470 bytes, the
// three encodings checked equal first; the machine was shared, load ~10 on 2 cores, so the ratios
// count more than the absolute times), µs per span:
//                         this encoder   ProtobufTraceSerializer   protobufjs + descriptor
//   Node 20.20.2              13.5                31.9                      37.6
//   Node 24.22.3              11.4                26.7                      24.8
// 2.2 to 2.8 times faster: ~15-20 µs per span, about 15% of a core at 10,000 spans/s.
//
// The bridge queues one request per span, so the resource and the scope of a request are
// encoded once per resource (scope) and kept as bytes ({@link RequestParts}); a span is written
// from the plain {@link EncodableSpan} (no ReadableSpan, HrTime arrays or grouping maps per span).
// Attribute keys are encoded once, and short ASCII strings copied in JS rather than through
// Buffer#write. Measured on the benchmark's LiteLLM spans (1,571 bytes, 24 attributes; CPU µs
// per span, draft to request, ids included, Node 20): straight from the draft 10.2; without an
// entry list for absent attribute limits 8.5; keys kept, short ASCII copied 6.7; the last
// resource compared before its key text is built 6.2.
import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
/** Span.flags: W3C trace flags plus "has is_remote" (the parent is never remote here). */
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/** Span.flags for a span with these W3C trace flags, whose parent is remote or not (or absent). */
export function spanFlags(traceFlags: number, parentIsRemote: boolean): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (parentIsRemote ? FLAGS_IS_REMOTE : 0);
}

function varintSize(value: number): number {
  if (value < 0) return 10; // negative int64: two's complement, ten bytes
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

const tagSize = (field: number) => varintSize(field << 3);
const lenFieldSize = (field: number, length: number) => tagSize(field) + varintSize(length) + length;

function anyValueSize(value: AttributeValue | undefined | null): number {
  switch (typeof value) {
    case 'string':
      return lenFieldSize(1, Buffer.byteLength(value));
    case 'boolean':
      return 2;
    case 'number':
      return isInt64(value) ? 1 + varintSize(value) : 9;
    default:
      if (Array.isArray(value)) {
        let inner = 0;
        for (const item of value) inner += lenFieldSize(1, anyValueSize(item));
        return lenFieldSize(5, inner);
      }
      return 0;
  }
}

const isInt64 = (n: number) => Number.isInteger(n) && n >= -(2 ** 63) && n < 2 ** 63;

function keyValueSize(key: string, value: AttributeValue | undefined): number {
  return lenFieldSize(1, Buffer.byteLength(key)) + lenFieldSize(2, anyValueSize(value));
}

function attributesSize(field: number, attributes: Attributes): number {
  let size = 0;
  for (const key in attributes) {
    if (Object.prototype.hasOwnProperty.call(attributes, key)) size += lenFieldSize(field, keyValueSize(key, attributes[key]));
  }
  return size;
}

/** Strings up to this long are copied by the writer itself when they are ASCII. */
const SHORT_ASCII_BYTES = 64;

/** An attribute key's UTF-8 bytes. */
type EncodedKey = Uint8Array;

/**
 * Attribute keys, encoded once: the mapping's keys are a fixed set (flattened metadata keys add a
 * few more); cleared when it reaches its bound, so odd input cannot grow it.
 */
const encodedKeys = new Map<string, EncodedKey>();
const MAX_ENCODED_KEYS = 4096;

function encodedKey(key: string): EncodedKey {
  let bytes = encodedKeys.get(key);
  if (bytes === undefined) {
    if (encodedKeys.size >= MAX_ENCODED_KEYS) encodedKeys.clear();
    encodedKeys.set(key, (bytes = new Uint8Array(Buffer.from(key, 'utf8'))));
  }
  return bytes;
}

class Writer {
  readonly buffer: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  varint(value: number): void {
    if (value < 0) {
      // int64 two's complement, as ten bytes.
      let v = BigInt.asUintN(64, BigInt(value));
      for (let i = 0; i < 9; i++) {
        this.buffer[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      this.buffer[this.pos++] = Number(v);
      return;
    }
    while (value >= 0x80) {
      this.buffer[this.pos++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.pos++] = value;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  string(field: number, value: string): void {
    const bytes = Buffer.byteLength(value);
    this.tag(field, WIRE_LEN);
    this.varint(bytes);
    this.utf8(value, bytes);
  }

  /**
   * Writes a string of `bytes` UTF-8 bytes. A short ASCII one (as many bytes as characters) is
   * copied here: most attribute values are short, and Buffer#write's way into native code cost
   * more than the copy (micro-measured on the benchmark's spans: see the module header).
   */
  utf8(value: string, bytes: number): void {
    if (bytes === value.length && bytes <= SHORT_ASCII_BYTES) {
      const { buffer } = this;
      let pos = this.pos;
      for (let i = 0; i < bytes; i++) buffer[pos++] = value.charCodeAt(i);
      this.pos = pos;
    } else this.pos += this.buffer.write(value, this.pos, 'utf8');
  }

  /** An attribute key, from the bytes kept for it. */
  key(key: EncodedKey): void {
    this.tag(1, WIRE_LEN);
    this.varint(key.length);
    const { buffer } = this;
    let pos = this.pos;
    for (let i = 0; i < key.length; i++) buffer[pos++] = key[i]!;
    this.pos = pos;
  }

  hexBytes(field: number, hex: string): void {
    this.tag(field, WIRE_LEN);
    this.varint(hex.length / 2);
    this.pos += this.buffer.write(hex, this.pos, 'hex');
  }

  header(field: number, length: number): void {
    this.tag(field, WIRE_LEN);
    this.varint(length);
  }

  fixed64Nanos(field: number, nanos: bigint): void {
    this.tag(field, WIRE_FIXED64);
    // Modulo 2^64 like the official writer; the export stage has already clamped times into range.
    this.pos = this.buffer.writeBigUInt64LE(BigInt.asUintN(64, nanos), this.pos);
  }

  /** The bytes written, in memory of their own (not a slice of Buffer's shared pool), to be kept. */
  copy(): Uint8Array {
    return new Uint8Array(this.buffer.subarray(0, this.pos));
  }

  bytes(bytes: Uint8Array): void {
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  anyValue(value: AttributeValue | undefined | null): void {
    switch (typeof value) {
      case 'string':
        this.string(1, value);
        return;
      case 'boolean':
        this.tag(2, WIRE_VARINT);
        this.varint(value ? 1 : 0);
        return;
      case 'number':
        if (isInt64(value)) {
          this.tag(3, WIRE_VARINT);
          this.varint(value);
        } else {
          this.tag(4, WIRE_FIXED64);
          this.pos = this.buffer.writeDoubleLE(value, this.pos);
        }
        return;
      default:
        if (Array.isArray(value)) {
          let inner = 0;
          const sizes = value.map((item) => anyValueSize(item));
          for (const size of sizes) inner += lenFieldSize(1, size);
          this.header(5, inner);
          value.forEach((item, i) => {
            this.header(1, sizes[i]!);
            this.anyValue(item);
          });
        }
    }
  }

  attributes(field: number, attributes: Attributes): void {
    for (const key in attributes) {
      if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
      const value = attributes[key];
      this.header(field, keyValueSize(key, value));
      this.string(1, key);
      this.header(2, anyValueSize(value));
      this.anyValue(value);
    }
  }
}

/** One attribute with its sizes, measured once and used for both planning and writing. */
interface PlannedAttribute {
  key: EncodedKey;
  value: AttributeValue | undefined;
  /** UTF-8 bytes of a string value (-1 for other types), measured once. */
  stringBytes: number;
  valueSize: number;
  size: number;
}

function planAttributes(attributes: Attributes): PlannedAttribute[] {
  // Object.keys, not for-in: the same own keys in the same order, and a GenAI span's attributes
  // (over 16 keys, so V8 keeps them as a dictionary) are listed in ~0.6 µs instead of ~0.95 µs.
  const keys = Object.keys(attributes);
  const planned: PlannedAttribute[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = attributes[key];
    const encoded = encodedKey(key);
    const stringBytes = typeof value === 'string' ? Buffer.byteLength(value) : -1;
    const valueSize = stringBytes >= 0 ? lenFieldSize(1, stringBytes) : anyValueSize(value);
    planned[i] = { key: encoded, value, stringBytes, valueSize, size: lenFieldSize(1, encoded.length) + lenFieldSize(2, valueSize) };
  }
  return planned;
}

/**
 * One span as the wire format needs it: OTel ids as hex, times already in range, attributes
 * already limited. Events and links are not part of it: the bridge emits none.
 */
export interface EncodableSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's Span.SpanKind: the API's SpanKind plus one. */
  kind: number;
  startNanos: bigint;
  endNanos: bigint;
  attributes: Attributes;
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  statusCode: number;
  /** Written only when non-empty. */
  statusMessage: string | undefined;
  /** Span.flags: the W3C trace flags and the is_remote bits. */
  flags: number;
}

interface SpanPlan {
  span: EncodableSpan;
  attributes: PlannedAttribute[];
  size: number;
  statusSize: number;
}

function planSpan(span: EncodableSpan): SpanPlan {
  let size = lenFieldSize(1, span.traceId.length / 2) + lenFieldSize(2, span.spanId.length / 2);
  if (span.parentSpanId) size += lenFieldSize(4, span.parentSpanId.length / 2);
  size += lenFieldSize(5, Buffer.byteLength(span.name));
  if (span.kind !== 0) size += tagSize(6) + varintSize(span.kind);
  size += 2 * (tagSize(7) + 8);
  const attributes = planAttributes(span.attributes);
  for (const a of attributes) size += lenFieldSize(9, a.size);
  size += tagSize(10) + varintSize(span.droppedAttributesCount);
  size += tagSize(12) + varintSize(span.droppedEventsCount);
  size += tagSize(14) + varintSize(span.droppedLinksCount);
  let statusSize = tagSize(3) + varintSize(span.statusCode);
  if (span.statusMessage) statusSize += lenFieldSize(2, Buffer.byteLength(span.statusMessage));
  size += lenFieldSize(15, statusSize);
  size += tagSize(16) + 4;
  return { span, attributes, size, statusSize };
}

function writeSpan(w: Writer, plan: SpanPlan): void {
  const { span } = plan;
  w.header(2, plan.size);
  w.hexBytes(1, span.traceId);
  w.hexBytes(2, span.spanId);
  if (span.parentSpanId) w.hexBytes(4, span.parentSpanId);
  w.string(5, span.name);
  if (span.kind !== 0) {
    w.tag(6, WIRE_VARINT);
    w.varint(span.kind);
  }
  w.fixed64Nanos(7, span.startNanos);
  w.fixed64Nanos(8, span.endNanos);
  for (const a of plan.attributes) {
    w.header(9, a.size);
    w.key(a.key);
    w.header(2, a.valueSize);
    if (a.stringBytes >= 0) {
      w.header(1, a.stringBytes);
      w.utf8(a.value as string, a.stringBytes);
    } else w.anyValue(a.value);
  }
  w.tag(10, WIRE_VARINT);
  w.varint(span.droppedAttributesCount);
  w.tag(12, WIRE_VARINT);
  w.varint(span.droppedEventsCount);
  w.tag(14, WIRE_VARINT);
  w.varint(span.droppedLinksCount);
  w.header(15, plan.statusSize);
  if (span.statusMessage) w.string(2, span.statusMessage);
  w.tag(3, WIRE_VARINT);
  w.varint(span.statusCode);
  w.tag(16, WIRE_FIXED32);
  w.pos = w.buffer.writeUInt32LE(span.flags, w.pos);
}

/**
 * The fixed bytes around the spans of one ResourceSpans (or ScopeSpans): `head` is its field 1
 * (the Resource, or the InstrumentationScope, message), `tail` its field 3 (the schema URL), if any.
 */
export interface RequestParts {
  head: Uint8Array;
  tail: Uint8Array;
}

const NO_BYTES = new Uint8Array(0);

function schemaUrlField(schemaUrl: string | undefined): Uint8Array {
  if (!schemaUrl) return NO_BYTES;
  const w = new Writer(lenFieldSize(3, Buffer.byteLength(schemaUrl)));
  w.string(3, schemaUrl);
  return w.copy();
}

/** A resource's parts of a ResourceSpans: its attributes (dropped count 0) and schema URL. */
export function encodeResourceParts(resource: { attributes: Attributes; schemaUrl?: string | undefined }): RequestParts {
  const resourceSize = attributesSize(1, resource.attributes) + tagSize(2) + 1;
  const w = new Writer(lenFieldSize(1, resourceSize));
  w.header(1, resourceSize);
  w.attributes(1, resource.attributes);
  w.tag(2, WIRE_VARINT);
  w.varint(0);
  return { head: w.copy(), tail: schemaUrlField(resource.schemaUrl) };
}

/** An instrumentation scope's parts of a ScopeSpans: its name and version, and schema URL. */
export function encodeScopeParts(scope: { name: string; version?: string | undefined; schemaUrl?: string | undefined }): RequestParts {
  let scopeSize = lenFieldSize(1, Buffer.byteLength(scope.name));
  if (scope.version) scopeSize += lenFieldSize(2, Buffer.byteLength(scope.version));
  const w = new Writer(lenFieldSize(1, scopeSize));
  w.header(1, scopeSize);
  w.string(1, scope.name);
  if (scope.version) w.string(2, scope.version);
  return { head: w.copy(), tail: schemaUrlField(scope.schemaUrl) };
}

const partsSize = (parts: RequestParts, inner: number) => parts.head.length + inner + parts.tail.length;

/** One ExportTraceServiceRequest holding one span, under a resource and scope encoded before. */
export function encodeSpanRequest(resource: RequestParts, scope: RequestParts, span: EncodableSpan): Uint8Array {
  const plan = planSpan(span);
  const scopeSpansSize = partsSize(scope, lenFieldSize(2, plan.size));
  const resourceSpansSize = partsSize(resource, lenFieldSize(2, scopeSpansSize));
  const w = new Writer(lenFieldSize(1, resourceSpansSize));
  w.header(1, resourceSpansSize);
  w.bytes(resource.head);
  w.header(2, scopeSpansSize);
  w.bytes(scope.head);
  writeSpan(w, plan);
  w.bytes(scope.tail);
  w.bytes(resource.tail);
  if (w.pos !== w.buffer.length) throw new Error(`encodeSpanRequest: wrote ${w.pos} bytes, planned ${w.buffer.length}`);
  return w.buffer;
}

const hrTimeNanos = (time: HrTime) => BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);

/** A ReadableSpan's fields, as the span writer takes them. */
function fromReadableSpan(span: ReadableSpan): EncodableSpan {
  const context = span.spanContext();
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    kind: span.kind + 1,
    startNanos: hrTimeNanos(span.startTime),
    endNanos: hrTimeNanos(span.endTime),
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    statusCode: span.status.code,
    statusMessage: span.status.message,
    flags: spanFlags(context.traceFlags, span.parentSpanContext?.isRemote === true),
  };
}

/**
 * Encodes ReadableSpans without events or links (the bridge emits none; they are rejected loudly
 * rather than silently dropped). Spans are grouped by resource and scope object identity, in
 * first-seen order, like the official serializer.
 */
export function encodeTraceRequest(spans: readonly ReadableSpan[]): Uint8Array {
  const groups = new Map<ReadableSpan['resource'], Map<ReadableSpan['instrumentationScope'], SpanPlan[]>>();
  for (const span of spans) {
    if (span.events.length > 0 || span.links.length > 0) throw new Error('encodeTraceRequest: span events and links are not supported');
    let scopes = groups.get(span.resource);
    if (!scopes) groups.set(span.resource, (scopes = new Map()));
    let plans = scopes.get(span.instrumentationScope);
    if (!plans) scopes.set(span.instrumentationScope, (plans = []));
    plans.push(planSpan(fromReadableSpan(span)));
  }
  // Sizes of every nested message, outermost last.
  const layout = [...groups].map(([resource, scopes]) => {
    const resourceParts = encodeResourceParts(resource);
    const scopeLayouts = [...scopes].map(([scope, plans]) => {
      const parts = encodeScopeParts(scope);
      let inner = 0;
      for (const plan of plans) inner += lenFieldSize(2, plan.size);
      return { parts, plans, size: partsSize(parts, inner) };
    });
    let inner = 0;
    for (const s of scopeLayouts) inner += lenFieldSize(2, s.size);
    return { parts: resourceParts, scopeLayouts, size: partsSize(resourceParts, inner) };
  });
  let total = 0;
  for (const r of layout) total += lenFieldSize(1, r.size);

  const w = new Writer(total);
  for (const r of layout) {
    w.header(1, r.size);
    w.bytes(r.parts.head);
    for (const s of r.scopeLayouts) {
      w.header(2, s.size);
      w.bytes(s.parts.head);
      for (const plan of s.plans) writeSpan(w, plan);
      w.bytes(s.parts.tail);
    }
    w.bytes(r.parts.tail);
  }
  if (w.pos !== total) throw new Error(`encodeTraceRequest: wrote ${w.pos} bytes, planned ${total}`);
  return w.buffer;
}
