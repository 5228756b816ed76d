// The SpanSink seam and its OTLP/HTTP implementation. Two halves, on either side of the durable
// export queue: `encode` turns one draft into a self-contained OTLP payload (encoded once, when the
// span is queued); `send` posts queued payloads as one request and returns an ExportOutcome. One
// attempt per call; retrying belongs to the export worker.

import { Agent as HttpAgent, validateHeaderName, validateHeaderValue } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';

import type { TlsMaterial } from '../config/tls-config.js';
import type { SpanDraft } from '../mapping/span-draft.js';
import { createAttemptGate } from './attempt-gate.js';
import { classifyAttempt } from './classify-attempt.js';
import type { DecodeResponse, PartialSuccess } from './classify-attempt.js';
import type { ExportOutcome } from './export-outcome.js';
import { postOnce } from './post-once.js';
import { createSpanEncoder } from './span-encoder.js';
import { tlsAgentOptions } from './tls-options.js';

const gzip = promisify(gzipCallback);

/** What an export worker sends a queue's payloads through: spans, or a destination's scores. */
export interface QueueSink {
  /** Sends queued payloads as one request (or one per item), in one attempt. Never rejects: every failure is an outcome. */
  send(payloads: readonly Uint8Array[]): Promise<ExportOutcome>;
  /** Waits for attempts in flight, then closes connections; later sends are `retryable`. */
  shutdown(): Promise<void>;
}

/** Where finished span drafts go. Tests swap in an in-memory sink. */
export interface SpanSink extends QueueSink {
  /**
   * One span as a payload that is a whole request on its own and joins others by `send`
   * (protobuf: an ExportTraceServiceRequest, which concatenates; JSON: a ResourceSpans list).
   * Throws when the draft cannot be encoded (the same draft would fail again).
   */
  encode(draft: SpanDraft): Uint8Array;
}

export interface OtlpSinkOptions {
  /** `http/protobuf` (the OTLP default) or `http/json`. */
  protocol: 'http/protobuf' | 'http/json';
  /** The full traces URL, used as is, e.g. `http://127.0.0.1:4318/v1/traces`. */
  url: string;
  /** Extra request headers (auth, tenant). Cannot replace Content-Type/-Encoding/-Length. */
  headers?: Record<string, string>;
  /** Deadline for one attempt, from connect to the end of the response. */
  timeoutMillis: number;
  /** @defaultValue 'none' */
  compression?: 'gzip' | 'none';
  /** Parsed OTEL_RESOURCE_ATTRIBUTES; the drafts' own resource attributes win over these. */
  resourceAttributes: Record<string, string>;
  /** OTEL_SERVICE_NAME: `service.name` of every span when set. */
  serviceNameOverride?: string;
  /**
   * The resource attribute naming a draft's tenant (`tenant_attribute`, default `langfuse.tenant`);
   * it wins over the sender's own resource, which could otherwise claim another tenant.
   */
  tenantAttribute?: string;
  /** OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: longest string attribute value, in characters. */
  attributeValueLengthLimit?: number;
  /** OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: most attributes per span. */
  attributeCountLimit?: number;
  /** Version of the bridge, for the instrumentation scope and User-Agent. */
  bridgeVersion: string;
  /**
   * The instrumentation scope of every span; default `langfuse-otel-bridge` at `bridgeVersion`.
   * Langfuse's OTLP endpoint reads `langfuse-sdk` as its own SDK's spans.
   */
  instrumentationScope?: { name: string; version?: string };
  /** CA bundle, client certificate and key for an https URL (ignored for http). */
  tls?: TlsMaterial;
}

const CONTENT_TYPES = {
  'http/protobuf': 'application/x-protobuf',
  'http/json': 'application/json',
} as const;

/** Headers the sink owns; a user header with one of these names would corrupt the request. */
const RESERVED_HEADERS = new Set(['content-type', 'content-encoding', 'content-length']);

/**
 * An OTLP/HTTP sink. It serializes with @opentelemetry/otlp-transformer (the serializers the
 * official exporters use) and POSTs once with node:http: the official exporters wrap their
 * transport in a retry loop that hides the status, Retry-After and partial success.
 *
 * Throws at creation for invalid options (a startup error); `export` never rejects.
 */
export function createOtlpSpanSink(options: OtlpSinkOptions): SpanSink {
  const url = parseUrl(options.url);
  assertOptions(options);

  const json = options.protocol === 'http/json';
  const serializer = json ? JsonTraceSerializer : ProtobufTraceSerializer;
  const encode = createSpanEncoder({ ...options, encoding: json ? 'json' : 'protobuf' });
  const join = json ? joinJsonRequests : joinProtobufRequests;
  const decodeResponse: DecodeResponse = (body) => {
    try {
      return toPartialSuccess(serializer.deserializeResponse(body));
    } catch (error) {
      // Langfuse's OTLP endpoint answers protobuf requests with a JSON body (its queued job).
      if (!json && body[0] === 0x7b) return toPartialSuccess(JsonTraceSerializer.deserializeResponse(body));
      throw error;
    }
  };
  const compress = options.compression === 'gzip';
  const headers = requestHeaders(options);
  // Keep-alive, as the OTLP spec recommends; owned here so shutdown can close the sockets.
  const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...tlsAgentOptions(options.tls) }) : new HttpAgent({ keepAlive: true });

  const gate = createAttemptGate('span sink', agent);

  async function sendOnce(payloads: readonly Uint8Array[]): Promise<ExportOutcome> {
    let body: Uint8Array;
    try {
      const joined = join(payloads);
      body = compress ? await gzip(joined) : joined;
    } catch (error) {
      // The same payloads would fail the same way again.
      return { kind: 'permanent', reason: `could not build the request: ${errorMessage(error)}` };
    }
    const attempt = await postOnce({ url, headers, body, timeoutMillis: options.timeoutMillis, agent });
    return classifyAttempt(attempt, decodeResponse);
  }

  return {
    encode,

    send(payloads) {
      // Still queued, so retryable once shut down: a permanent outcome would dead-letter good data.
      return gate.run(async () => {
        // The spec says not to send empty requests.
        if (payloads.length === 0) return { kind: 'success', rejectedSpans: 0 };
        return sendOnce(payloads);
      });
    },
    shutdown: () => gate.shutdown(),
  };
}

/** Serialized ExportTraceServiceRequests concatenate into one: `resource_spans` is a repeated field. */
function joinProtobufRequests(payloads: readonly Uint8Array[]): Uint8Array {
  return payloads.length === 1 ? payloads[0]! : Buffer.concat(payloads);
}

const JSON_PREFIX = '{"resourceSpans":[';
const JSON_SUFFIX = ']}';

/** `{"resourceSpans":[…]}` texts joined by their lists (each payload is the serializer's exact output). */
function joinJsonRequests(payloads: readonly Uint8Array[]): Uint8Array {
  if (payloads.length === 1) return payloads[0]!;
  const parts: string[] = [];
  for (const payload of payloads) {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    if (!text.startsWith(JSON_PREFIX) || !text.endsWith(JSON_SUFFIX)) throw new Error('a queued JSON payload is not an ExportTraceServiceRequest');
    parts.push(text.slice(JSON_PREFIX.length, -JSON_SUFFIX.length));
  }
  return Buffer.from(`${JSON_PREFIX}${parts.join(',')}${JSON_SUFFIX}`);
}

function requestHeaders(options: OtlpSinkOptions): Record<string, string> {
  const headers: Record<string, string> = { 'User-Agent': `langfuse-otel-bridge/${options.bridgeVersion}` };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!RESERVED_HEADERS.has(name.toLowerCase())) headers[name] = value;
  }
  headers['Content-Type'] = CONTENT_TYPES[options.protocol];
  if (options.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
  return headers;
}

/** The JSON response carries int64 `rejectedSpans` as a string (proto3 JSON); accept both. */
export function toPartialSuccess(response: IExportTraceServiceResponse): PartialSuccess {
  const partial = response.partialSuccess;
  if (!partial) return { rejectedSpans: 0 };
  const rejectedSpans = Number(partial.rejectedSpans ?? 0);
  return partial.errorMessage ? { rejectedSpans, errorMessage: partial.errorMessage } : { rejectedSpans };
}

function parseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`Configuration: url is invalid, expected an http(s) URL (actual: '${value}')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`Configuration: url is invalid, expected an http(s) URL (actual: '${value}')`);
  }
  return url;
}

function assertOptions(options: OtlpSinkOptions): void {
  if (!Number.isFinite(options.timeoutMillis) || options.timeoutMillis <= 0) {
    throw new Error(`Configuration: timeoutMillis is invalid, expected a positive number (actual: ${options.timeoutMillis})`);
  }
  const limit = options.attributeValueLengthLimit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) {
    throw new Error(`Configuration: attributeValueLengthLimit is invalid, expected a non-negative integer (actual: ${limit})`);
  }
  // node:http would otherwise throw on every export; a bad header is a startup error.
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new Error(`Configuration: headers is invalid, expected valid HTTP header names and values (actual header: '${name}')`);
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
