// OTLP/HTTP trace bodies in and answers out: decodes an ExportTraceServiceRequest (protobuf or
// JSON) into the plain OtlpTraceRequest the converter reads, and encodes ExportTraceServiceResponse
// and google.rpc.Status answers in the request's encoding. The protobuf schema is the official
// opentelemetry-proto definitions as shipped in @elastic/mockotlpserver, loaded with protobufjs
// from disk at startup (no network). Knows no express and no Langfuse.
import { createRequire } from 'node:module';
import path from 'node:path';

import protobuf from 'protobufjs';

import type { JsonValue } from '../ingestion/ingestion-event.js';
import type { InvalidOtlpSpan, OtlpAttributes, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpTraceRequest } from '../ingestion/otlp-span.js';

export type OtlpEncoding = 'protobuf' | 'json';

/** Thrown for a body that cannot be read as an ExportTraceServiceRequest (answered with 400). */
export class OtlpDecodeError extends Error {}

const PROTO_PACKAGE = '@elastic/mockotlpserver/package.json';
const TRACE_SERVICE_PROTO = 'opentelemetry/proto/collector/trace/v1/trace_service.proto';

interface OtlpTypes {
  request: protobuf.Type;
  response: protobuf.Type;
  status: protobuf.Type;
  /** Enum names → numbers from the protos, for OTLP/JSON senders that write names. */
  spanKinds: Record<string, number>;
  statusCodes: Record<string, number>;
}

let types: OtlpTypes | undefined;

/** The protobuf types, loaded once (synchronously: a few files from node_modules). */
function otlpTypes(): OtlpTypes {
  if (types) return types;
  const protoDir = path.dirname(createRequire(import.meta.url).resolve(PROTO_PACKAGE));
  const root = new protobuf.Root();
  // Imports in the .proto files are relative to the tree's top ("opentelemetry/proto/..."), not to
  // the importing file, which is protobufjs's default.
  root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
  root.loadSync(TRACE_SERVICE_PROTO, { keepCase: false });
  // google.rpc.Status, the body of OTLP/HTTP error answers: its schema (code, message; the
  // `details` of type Any are never sent by the bridge).
  const status = new protobuf.Type('Status').add(new protobuf.Field('code', 1, 'int32')).add(new protobuf.Field('message', 2, 'string'));
  new protobuf.Root().define('google.rpc').add(status);
  types = {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    status,
    spanKinds: root.lookupEnum('opentelemetry.proto.trace.v1.Span.SpanKind').values,
    statusCodes: root.lookupEnum('opentelemetry.proto.trace.v1.Status.StatusCode').values,
  };
  return types;
}

/** Loads the schema now, so a broken install fails at startup rather than on the first request. */
export function loadOtlpSchema(): void {
  otlpTypes();
}

/** Decodes a request body (already gunzipped). Throws OtlpDecodeError for an unreadable body. */
export function decodeTraceRequest(body: Uint8Array, encoding: OtlpEncoding): OtlpTraceRequest {
  let message: unknown;
  if (encoding === 'protobuf') {
    const { request } = otlpTypes();
    try {
      message = request.toObject(request.decode(body), { longs: String, enums: Number, defaults: false, arrays: true });
    } catch (error) {
      throw new OtlpDecodeError(`could not decode the protobuf ExportTraceServiceRequest: ${(error as Error).message}`);
    }
  } else {
    try {
      message = JSON.parse(Buffer.from(body).toString('utf8'));
    } catch (error) {
      throw new OtlpDecodeError(`could not parse the JSON ExportTraceServiceRequest: ${(error as Error).message}`);
    }
  }
  return normalizeRequest(message);
}

/** `ExportTraceServiceResponse` bytes or text; an empty partial success is left out (full success). */
export function encodeTraceResponse(encoding: OtlpEncoding, rejectedSpans: number, errorMessage: string): Uint8Array | string {
  const partial = rejectedSpans > 0 || errorMessage !== '';
  if (encoding === 'json') {
    return JSON.stringify(partial ? { partialSuccess: { rejectedSpans: String(rejectedSpans), errorMessage } } : {});
  }
  const { response } = otlpTypes();
  const value = partial ? { partialSuccess: { rejectedSpans, errorMessage } } : {};
  return response.encode(response.fromObject(value)).finish();
}

/** google.rpc.Status codes the bridge answers with. */
export const RPC_CODE = { INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAUTHENTICATED: 16, UNAVAILABLE: 14, INTERNAL: 13 } as const;

/** A `google.rpc.Status` body in the request's encoding. */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Uint8Array | string {
  if (encoding === 'json') return JSON.stringify({ code, message });
  const { status } = otlpTypes();
  return status.encode(status.fromObject({ code, message })).finish();
}

// ---- normalization: decoded message (protobufjs object or OTLP/JSON) → OtlpTraceRequest ----

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function arrayField(parent: Obj, key: string, where: string): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where}.${key} must be an array`);
  return value;
}

function normalizeRequest(message: unknown): OtlpTraceRequest {
  if (!isObj(message)) throw new OtlpDecodeError('the body must be an ExportTraceServiceRequest object');
  return {
    resourceSpans: arrayField(message, 'resourceSpans', 'request').map((rs, i): OtlpResourceSpans => {
      const where = `resourceSpans[${i}]`;
      if (!isObj(rs)) throw new OtlpDecodeError(`${where} must be an object`);
      const resource = isObj(rs.resource) ? rs.resource : {};
      return {
        resource: toAttributes(arrayField(resource, 'attributes', `${where}.resource`)),
        scopeSpans: arrayField(rs, 'scopeSpans', where).map((ss, j): OtlpScopeSpans => {
          const scopeWhere = `${where}.scopeSpans[${j}]`;
          if (!isObj(ss)) throw new OtlpDecodeError(`${scopeWhere} must be an object`);
          const scope = isObj(ss.scope) ? ss.scope : {};
          return {
            scope: {
              name: typeof scope.name === 'string' ? scope.name : '',
              ...(typeof scope.version === 'string' && scope.version !== '' ? { version: scope.version } : {}),
            },
            spans: arrayField(ss, 'spans', scopeWhere).map((span) => normalizeSpan(span)),
          };
        }),
      };
    }),
  };
}

function normalizeSpan(span: unknown): OtlpSpan | InvalidOtlpSpan {
  if (!isObj(span)) return { invalid: 'a span is not an object' };
  const traceId = toHexId(span.traceId, 16);
  const spanId = toHexId(span.spanId, 8);
  if (!traceId || /^0+$/.test(traceId)) return { invalid: 'a span has no valid traceId (16 bytes, not all zero)' };
  if (!spanId || /^0+$/.test(spanId)) return { invalid: 'a span has no valid spanId (8 bytes, not all zero)' };
  const parent = span.parentSpanId === undefined || span.parentSpanId === null || span.parentSpanId === '' ? undefined : toHexId(span.parentSpanId, 8);
  if (parent === undefined && span.parentSpanId !== undefined && span.parentSpanId !== null && span.parentSpanId !== '' && !isEmptyBytes(span.parentSpanId)) {
    return { invalid: 'a span has a malformed parentSpanId' };
  }
  if (span.attributes !== undefined && span.attributes !== null && !Array.isArray(span.attributes)) {
    return { invalid: 'span attributes must be a list of {key, value}' };
  }
  const start = toNanos(span.startTimeUnixNano);
  const end = toNanos(span.endTimeUnixNano);
  if (start === undefined || end === undefined) return { invalid: 'a span has a malformed start or end time' };
  const status = isObj(span.status) ? span.status : {};
  const out: OtlpSpan = {
    traceId,
    spanId,
    name: typeof span.name === 'string' ? span.name : '',
    kind: toEnum(span.kind, otlpTypes().spanKinds),
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: toAttributes((span.attributes as unknown[] | undefined) ?? []),
    status: {
      code: toEnum(status.code, otlpTypes().statusCodes),
      ...(typeof status.message === 'string' && status.message !== '' ? { message: status.message } : {}),
    },
  };
  if (parent && !/^0+$/.test(parent)) out.parentSpanId = parent;
  return out;
}

/** OTLP/JSON enums are integers, but some senders write the names. */
function toEnum(value: unknown, names: Record<string, number>): number {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') return names[value] ?? (/^\d+$/.test(value) ? Number(value) : 0);
  return 0;
}

function isEmptyBytes(value: unknown): boolean {
  return value instanceof Uint8Array && value.length === 0;
}

/** Protobuf bytes, or OTLP/JSON's hex string (base64, which some JSON senders write, too). */
function toHexId(value: unknown, bytes: number): string | undefined {
  if (value instanceof Uint8Array) return value.length === bytes ? Buffer.from(value).toString('hex') : undefined;
  if (typeof value !== 'string') return undefined;
  if (value.length === bytes * 2 && /^[0-9a-f]+$/i.test(value)) return value.toLowerCase();
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    const decoded = Buffer.from(value, 'base64');
    if (decoded.length === bytes) return decoded.toString('hex');
  }
  return undefined;
}

/** fixed64 nanoseconds: protobufjs gives a decimal string (longs: String); JSON a string or number. */
function toNanos(value: unknown): string | undefined {
  if (value === undefined || value === null) return '0';
  // A JSON number past 2^53 has already lost its last digits in JSON.parse; it is still a time.
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return BigInt(Math.trunc(value)).toString();
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return BigInt(value).toString();
  return undefined;
}

function toAttributes(list: unknown[]): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const kv of list) {
    if (!isObj(kv) || typeof kv.key !== 'string') continue;
    out[kv.key] = toValue(kv.value, 0);
  }
  return out;
}

const MAX_VALUE_DEPTH = 32;

/** An OTLP AnyValue as a JSON value; nesting deeper than 32 levels becomes null. */
function toValue(value: unknown, depth: number): JsonValue {
  if (!isObj(value) || depth > MAX_VALUE_DEPTH) return null;
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== undefined && value.intValue !== null) {
    const n = typeof value.intValue === 'number' ? value.intValue : Number(value.intValue);
    if (Number.isSafeInteger(n)) return n;
    return typeof value.intValue === 'string' ? value.intValue : null;
  }
  if (value.doubleValue !== undefined && value.doubleValue !== null) {
    const n = Number(value.doubleValue);
    // NaN and the infinities have no JSON form: keep their OTLP/JSON spelling.
    return Number.isFinite(n) ? n : String(value.doubleValue);
  }
  if (isObj(value.arrayValue)) {
    const values = Array.isArray(value.arrayValue.values) ? value.arrayValue.values : [];
    return values.map((v) => toValue(v, depth + 1));
  }
  if (isObj(value.kvlistValue)) {
    const values = Array.isArray(value.kvlistValue.values) ? value.kvlistValue.values : [];
    const out: Record<string, JsonValue> = {};
    for (const kv of values) if (isObj(kv) && typeof kv.key === 'string') out[kv.key] = toValue(kv.value, depth + 1);
    return out;
  }
  if (value.bytesValue instanceof Uint8Array) return Buffer.from(value.bytesValue).toString('base64');
  if (typeof value.bytesValue === 'string') return value.bytesValue;
  return null;
}
