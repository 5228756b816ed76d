// One SpanDraft as a self-contained OTLP ExportTraceServiceRequest (protobuf or JSON): the resource
// (OTEL_RESOURCE_ATTRIBUTES under the draft's own, the tenant attribute over both), the instrumentation scope (the bridge's, or the
// sender's for spans passed through) and the attribute limits. Shared by the OTLP/HTTP and OTLP/gRPC
// sinks, which only send what this produces. Pure apart from its small caches.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';

import type { SpanDraft } from '../mapping/span-draft.js';
import { sameAttributes } from './same-attributes.js';
import { encodeResourceParts, encodeScopeParts, encodeSpanRequest, type RequestParts } from './otlp-protobuf.js';
import { bridgeInstrumentationScope, createResourceCache, toEncodableSpan, toReadableSpan, type ReadableSpanOptions } from './to-readable-span.js';

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
  const resourceOf = (draft: SpanDraft) =>
    draft.tenant !== undefined && tenantAttribute !== undefined ? { ...draft.resource, [tenantAttribute]: draft.tenant } : draft.resource;

  if (options.encoding === 'json') {
    // JSON requests go through the official serializer.
    return (draft) => {
      const spanScope = draft.scope ? senderScope(draft.scope) : scope;
      const encoded = JsonTraceSerializer.serializeRequest([toReadableSpan(draft, resources.resourceFor(resourceOf(draft)), spanScope, spanOptions)]);
      if (encoded === undefined) throw new Error('the OTLP serializer produced no request');
      return encoded;
    };
  }

  // Protobuf requests are written by our encoder (the same bytes as the official serializer),
  // straight from the draft: each request holds one span, so the resource and scope messages are
  // encoded once per Resource (from the ResourceCache, whose bound also bounds these bytes) and
  // per scope object, and kept as bytes.
  const encodedResources = new WeakMap<Resource, RequestParts>();
  // Consecutive drafts mostly come from one sender: the last resource is compared key by key
  // before the ResourceCache builds its key text.
  let last: { resource: SpanDraft['resource']; parts: RequestParts } | undefined;
  const resourcePartsFor = (draft: SpanDraft): RequestParts => {
    const own = resourceOf(draft);
    // The mapping hands out one object per sender: most drafts are recognised by identity.
    if (last && (last.resource === own || sameAttributes(last.resource, own))) return last.parts;
    const resource = resources.resourceFor(own);
    let parts = encodedResources.get(resource);
    if (!parts) encodedResources.set(resource, (parts = encodeResourceParts(resource)));
    last = { resource: own, parts };
    return parts;
  };
  const encodedScopes = new WeakMap<InstrumentationScope, RequestParts>();
  const scopePartsFor = (spanScope: InstrumentationScope): RequestParts => {
    let parts = encodedScopes.get(spanScope);
    if (!parts) encodedScopes.set(spanScope, (parts = encodeScopeParts(spanScope)));
    return parts;
  };
  return (draft) => encodeSpanRequest(resourcePartsFor(draft), scopePartsFor(draft.scope ? senderScope(draft.scope) : scope), toEncodableSpan(draft, spanOptions));
}

