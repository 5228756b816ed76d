// One SpanDraft as a self-contained OTLP ExportTraceServiceRequest (protobuf or JSON): the resource
// (OTEL_RESOURCE_ATTRIBUTES under the draft's own, the tenant attribute over both), the instrumentation scope (the bridge's, or the
// sender's for spans passed through) and the attribute limits. Shared by the OTLP/HTTP and OTLP/gRPC
// sinks, which only send what this produces. Pure apart from its small caches.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import type { SpanDraft } from '../mapping/span-draft.js';
import { encodeTraceRequest } from './otlp-protobuf.js';
import { bridgeInstrumentationScope, createResourceCache, toReadableSpan, type ReadableSpanOptions } from './to-readable-span.js';

export interface SpanEncoderOptions extends ReadableSpanOptions {
  /** `protobuf` payloads concatenate into one request; `json` ones are joined by their lists. */
  encoding: 'protobuf' | 'json';
  /** Parsed OTEL_RESOURCE_ATTRIBUTES; the drafts' own resource attributes win over these. */
  resourceAttributes: Record<string, string>;
  /** OTEL_SERVICE_NAME: `service.name` of every span when set. */
  serviceNameOverride?: string;
  /**
   * The resource attribute naming a draft's tenant (`tenant_attribute`, default `langfuse.tenant`),
   * set when tenants are configured; it wins over the sender's own resource, which could
   * otherwise claim another tenant.
   */
  tenantAttribute?: string;
  bridgeVersion: string;
  /** The scope of the bridge's own spans; default `langfuse-otel-bridge` at `bridgeVersion`. */
  instrumentationScope?: { name: string; version?: string };
}

/** Throws when the draft cannot be encoded (the same draft would fail again). */
export type SpanEncoder = (draft: SpanDraft) => Uint8Array;

export function createSpanEncoder(options: SpanEncoderOptions): SpanEncoder {
  // Protobuf requests are written by our encoder (the same bytes, natively copied strings);
  // JSON requests go through the official serializer.
  const encodeSpans = options.encoding === 'json' ? (spans: ReadableSpan[]) => JsonTraceSerializer.serializeRequest(spans) : encodeTraceRequest;
  const resources = createResourceCache(options.resourceAttributes, options.serviceNameOverride);
  const scope = options.instrumentationScope ?? bridgeInstrumentationScope(options.bridgeVersion);
  // Spans passed through from OTLP keep their sender's scope; one object per scope, because the
  // encoder groups spans by scope identity.
  const senderScopes = new Map<string, InstrumentationScope>();
  const senderScope = (s: { name: string; version?: string }): InstrumentationScope => {
    const key = `${s.name}\u0000${s.version ?? ''}`;
    let cached = senderScopes.get(key);
    if (!cached) {
      if (senderScopes.size >= 256) senderScopes.clear();
      senderScopes.set(key, (cached = s.version ? { name: s.name, version: s.version } : { name: s.name }));
    }
    return cached;
  };
  const spanOptions: ReadableSpanOptions = {
    ...(options.attributeValueLengthLimit === undefined ? {} : { attributeValueLengthLimit: options.attributeValueLengthLimit }),
    ...(options.attributeCountLimit === undefined ? {} : { attributeCountLimit: options.attributeCountLimit }),
  };
  const { tenantAttribute } = options;
  return (draft) => {
    const spanScope = draft.scope ? senderScope(draft.scope) : scope;
    const resource = draft.tenant !== undefined && tenantAttribute !== undefined ? { ...draft.resource, [tenantAttribute]: draft.tenant } : draft.resource;
    const encoded = encodeSpans([toReadableSpan(draft, resources.resourceFor(resource), spanScope, spanOptions)]);
    if (encoded === undefined) throw new Error('the OTLP serializer produced no request');
    return encoded;
  };
}
