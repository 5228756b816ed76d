// Span drafts as the OTLP/JSON trace request the sink would send with OTEL_EXPORTER_OTLP_PROTOCOL
// =http/json: the same ReadableSpans, resource layering and official serializer. For offline use
// (the `convert` command); sends nothing.
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';

import type { SpanDraft } from '../mapping/span-draft.js';
import { bridgeInstrumentationScope, createResourceCache, toReadableSpan } from './to-readable-span.js';

export interface OtlpJsonOptions {
  resourceAttributes?: Record<string, string>;
  serviceNameOverride?: string;
  bridgeVersion: string;
}

/** The ExportTraceServiceRequest, parsed (so callers can pretty-print or inspect it). */
export function toOtlpJsonRequest(drafts: readonly SpanDraft[], options: OtlpJsonOptions): unknown {
  const resources = createResourceCache(options.resourceAttributes ?? {}, options.serviceNameOverride);
  const scope = bridgeInstrumentationScope(options.bridgeVersion);
  const spans = drafts.map((draft) => toReadableSpan(draft, resources.resourceFor(draft.resource), scope));
  const bytes = JsonTraceSerializer.serializeRequest(spans);
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as unknown) : { resourceSpans: [] };
}
