// A fake OTLP/HTTP collector on 127.0.0.1 (port 0) for tests: records every request, decodes the
// spans of JSON and protobuf bodies, and answers as told (200, partial success, errors, hang).
// The test that starts one must close() it; close() also ends requests left hanging.

import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** How the collector answers a request. */
export type CollectorBehaviour =
  | { kind: 'ok'; partialSuccess?: { rejectedSpans: number; errorMessage?: string } }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'hang' };

export type CollectedValue = string | number | boolean | CollectedValue[] | undefined;

/** One span as it arrived, in the same shape for both encodings. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, CollectedValue>;
  /** OTLP enum: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string | undefined };
  resource: Record<string, CollectedValue>;
  scope: { name: string; version: string | undefined };
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  contentType: string | undefined;
  /** The body as received (possibly gzip-compressed). */
  rawBody: Buffer;
  /** Decoded spans; empty when the body could not be decoded (see decodeError). */
  spans: CollectedSpan[];
  decodeError: string | undefined;
  /** When the request's body had arrived (Date.now()). */
  receivedAtMillis: number;
}

export interface FakeCollector {
  /** The full traces URL, `http://127.0.0.1:<port>/v1/traces`. */
  url: string;
  requests: RecordedRequest[];
  /** All spans of all requests, in arrival order. */
  spans(): CollectedSpan[];
  setBehaviour(behaviour: CollectorBehaviour | ((requestIndex: number) => CollectorBehaviour)): void;
  /** Stops listening and destroys open sockets, so hanging requests end too. */
  close(): Promise<void>;
}

/** HTTPS instead of HTTP: the server's key and certificate, and the CA its clients must present a certificate of (mTLS). */
export interface FakeCollectorTls {
  key: Buffer;
  cert: Buffer;
  /** When set, a client certificate signed by it is required. */
  clientCa?: Buffer;
}

export async function startFakeCollector(
  initial: CollectorBehaviour | ((requestIndex: number) => CollectorBehaviour) = { kind: 'ok' },
  options: { tls?: FakeCollectorTls } = {},
): Promise<FakeCollector> {
  let behaviour = initial;
  const requests: RecordedRequest[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const contentType = req.headers['content-type'];
      const isJson = contentType?.includes('json') ?? false;
      let spans: CollectedSpan[] = [];
      let decodeError: string | undefined;
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(rawBody) : rawBody;
        spans = isJson ? decodeJsonRequest(body) : decodeProtobufRequest(body);
      } catch (error) {
        decodeError = error instanceof Error ? error.message : String(error);
      }
      const index = requests.length;
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, contentType, rawBody, spans, decodeError, receivedAtMillis: Date.now() });
      answer(res, typeof behaviour === 'function' ? behaviour(index) : behaviour, isJson);
    });
  };
  const tls = options.tls;
  const server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert, ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, handle)
    : createServer(handle);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/v1/traces`,
    requests,
    spans: () => requests.flatMap((request) => request.spans),
    setBehaviour(next) {
      behaviour = next;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function answer(res: ServerResponse, behaviour: CollectorBehaviour, isJson: boolean): void {
  switch (behaviour.kind) {
    case 'hang':
      return;
    case 'status':
      res.writeHead(behaviour.status, { 'Content-Type': 'text/plain', ...behaviour.headers });
      res.end(behaviour.body ?? '');
      return;
    case 'ok': {
      const partial = behaviour.partialSuccess;
      if (isJson) {
        // proto3 JSON writes int64 as a decimal string.
        const body = partial
          ? { partialSuccess: { rejectedSpans: String(partial.rejectedSpans), errorMessage: partial.errorMessage ?? '' } }
          : {};
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf' });
        res.end(partial ? encodePartialSuccess(partial.rejectedSpans, partial.errorMessage ?? '') : Buffer.alloc(0));
      }
      return;
    }
  }
}

// ---- JSON (proto3 JSON mapping: hex ids, string int64, integer enums) ----

type Json = Record<string, unknown>;

export function decodeJsonRequest(body: Buffer): CollectedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as Json;
  const out: CollectedSpan[] = [];
  for (const resourceSpans of asArray(request['resourceSpans'])) {
    const resource = jsonAttributes((resourceSpans['resource'] as Json | undefined)?.['attributes']);
    for (const scopeSpans of asArray(resourceSpans['scopeSpans'])) {
      const scopeJson = (scopeSpans['scope'] ?? {}) as Json;
      const scope = { name: String(scopeJson['name'] ?? ''), version: optionalString(scopeJson['version']) };
      for (const span of asArray(scopeSpans['spans'])) {
        const status = (span['status'] ?? {}) as Json;
        out.push({
          traceId: String(span['traceId']).toLowerCase(),
          spanId: String(span['spanId']).toLowerCase(),
          parentSpanId: optionalString(span['parentSpanId'])?.toLowerCase(),
          name: String(span['name']),
          kind: Number(span['kind'] ?? 0),
          startTimeUnixNano: String(span['startTimeUnixNano']),
          endTimeUnixNano: String(span['endTimeUnixNano']),
          attributes: jsonAttributes(span['attributes']),
          status: { code: Number(status['code'] ?? 0), message: optionalString(status['message']) },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

function jsonAttributes(list: unknown): Record<string, CollectedValue> {
  const out: Record<string, CollectedValue> = {};
  for (const kv of asArray(list)) out[String(kv['key'])] = jsonAnyValue(kv['value'] as Json | undefined);
  return out;
}

function jsonAnyValue(value: Json | undefined): CollectedValue {
  if (!value) return undefined;
  if ('stringValue' in value) return String(value['stringValue']);
  if ('boolValue' in value) return Boolean(value['boolValue']);
  if ('intValue' in value) return Number(value['intValue']);
  if ('doubleValue' in value) return Number(value['doubleValue']);
  if ('arrayValue' in value) return asArray((value['arrayValue'] as Json)['values']).map(jsonAnyValue);
  return undefined;
}

function asArray(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// ---- protobuf: a minimal wire-format walk of ExportTraceServiceRequest ----
// Field numbers from opentelemetry/proto trace.proto, common.proto, resource.proto.

interface Field {
  field: number;
  /** Varint (as bigint), fixed64/fixed32 (as bigint) or length-delimited bytes. */
  value: bigint | Buffer;
}

function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[pos++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (wireType === 0) fields.push({ field, value: varint() });
    else if (wireType === 1) {
      fields.push({ field, value: buf.readBigUInt64LE(pos) });
      pos += 8;
    } else if (wireType === 5) {
      fields.push({ field, value: BigInt(buf.readUInt32LE(pos)) });
      pos += 4;
    } else if (wireType === 2) {
      const length = Number(varint());
      if (pos + length > buf.length) throw new Error('truncated length-delimited field');
      fields.push({ field, value: buf.subarray(pos, pos + length) });
      pos += length;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  return fields;
}

const bytesOf = (fields: Field[], n: number): Buffer[] =>
  fields.filter((f) => f.field === n && Buffer.isBuffer(f.value)).map((f) => f.value as Buffer);
const firstBytes = (fields: Field[], n: number): Buffer | undefined => bytesOf(fields, n)[0];
const firstNumber = (fields: Field[], n: number): bigint | undefined => {
  const found = fields.find((f) => f.field === n && typeof f.value === 'bigint');
  return found ? (found.value as bigint) : undefined;
};
const str = (buf: Buffer | undefined): string | undefined => buf?.toString('utf8');

export function decodeProtobufRequest(body: Buffer): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const resourceSpans of bytesOf(readFields(body), 1)) {
    const rsFields = readFields(resourceSpans);
    const resourceBytes = firstBytes(rsFields, 1);
    const resource = protoAttributes(resourceBytes ? readFields(resourceBytes) : [], 1);
    for (const scopeSpans of bytesOf(rsFields, 2)) {
      const ssFields = readFields(scopeSpans);
      const scopeFields = readFields(firstBytes(ssFields, 1) ?? Buffer.alloc(0));
      const scope = { name: str(firstBytes(scopeFields, 1)) ?? '', version: str(firstBytes(scopeFields, 2)) };
      for (const spanBytes of bytesOf(ssFields, 2)) {
        const span = readFields(spanBytes);
        const statusFields = readFields(firstBytes(span, 15) ?? Buffer.alloc(0));
        const parent = firstBytes(span, 4);
        out.push({
          traceId: firstBytes(span, 1)?.toString('hex') ?? '',
          spanId: firstBytes(span, 2)?.toString('hex') ?? '',
          parentSpanId: parent && parent.length > 0 ? parent.toString('hex') : undefined,
          name: str(firstBytes(span, 5)) ?? '',
          kind: Number(firstNumber(span, 6) ?? 0n),
          startTimeUnixNano: String(firstNumber(span, 7) ?? 0n),
          endTimeUnixNano: String(firstNumber(span, 8) ?? 0n),
          attributes: protoAttributes(span, 9),
          status: { code: Number(firstNumber(statusFields, 3) ?? 0n), message: str(firstBytes(statusFields, 2)) || undefined },
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** KeyValue: 1 key, 2 value (AnyValue). */
function protoAttributes(fields: Field[], fieldNumber: number): Record<string, CollectedValue> {
  const out: Record<string, CollectedValue> = {};
  for (const kv of bytesOf(fields, fieldNumber)) {
    const kvFields = readFields(kv);
    const value = firstBytes(kvFields, 2);
    out[str(firstBytes(kvFields, 1)) ?? ''] = value ? protoAnyValue(value) : undefined;
  }
  return out;
}

/** AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 ArrayValue (1 repeated AnyValue). */
function protoAnyValue(buf: Buffer): CollectedValue {
  const [first] = readFields(buf);
  if (!first) return undefined;
  const { field, value } = first;
  if (field === 1 && Buffer.isBuffer(value)) return value.toString('utf8');
  if (field === 2 && typeof value === 'bigint') return value !== 0n;
  if (field === 3 && typeof value === 'bigint') return Number(BigInt.asIntN(64, value));
  if (field === 4 && typeof value === 'bigint') {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(value);
    return bytes.readDoubleLE(0);
  }
  if (field === 5 && Buffer.isBuffer(value)) return bytesOf(readFields(value), 1).map(protoAnyValue);
  return undefined;
}

/** ExportTraceServiceResponse { 1: ExportTracePartialSuccess { 1: rejected_spans, 2: error_message } }. */
function encodePartialSuccess(rejectedSpans: number, errorMessage: string): Buffer {
  const message = Buffer.from(errorMessage, 'utf8');
  const inner = Buffer.concat([
    Buffer.from([0x08]),
    encodeVarint(rejectedSpans),
    ...(message.length > 0 ? [Buffer.from([0x12]), encodeVarint(message.length), message] : []),
  ]);
  return Buffer.concat([Buffer.from([0x0a]), encodeVarint(inner.length), inner]);
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
