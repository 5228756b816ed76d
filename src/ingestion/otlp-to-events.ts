// OTLP spans → the very events the /api/public/ingestion path builds. A span carrying `langfuse.*`
// attributes (LiteLLM ≥ 1.104, the Langfuse SDKs v3+) is read back into an observation event (plus
// a trace-create when it is the root or updates its trace), with Langfuse's own attribute rules,
// and validated by the same schemas; any other span passes through as data (`otel-span`), legacy
// GenAI names normalised. Pure: no HTTP, no storage, no OTel types.
import { normalizeGenAiNames } from './genai-legacy-names.js';
import type { IngestionEvent, JsonValue, ObservationEvent, PassthroughSpanBody, PassthroughSpanEvent } from './ingestion-event.js';
import {
  extractGenAiUsage,
  extractLevel,
  extractMetadata,
  extractObservationType,
  extractTags,
  firstString,
  parseJsonish,
  parseJsonObject,
} from './otlp-attributes.js';
import { isInvalidSpan, type OtlpAttributes, type OtlpScope, type OtlpSpan, type OtlpTraceRequest } from './otlp-span.js';
import { toRequestSource, type RequestSource } from './request-source.js';
import { isLangfuseDatetime } from './timestamp.js';
import { validateBatch, type ValidationLimits } from './validate-batch.js';

export interface OtlpConversion {
  /** One group per `resourceSpans` (each becomes one spool entry): validated events, in span order. */
  groups: Array<{ source: RequestSource; events: IngestionEvent[] }>;
  acceptedSpans: number;
  rejectedSpans: number;
  /** Why spans were rejected (the first few reasons), or '' when none was. */
  errorMessage: string;
}

export interface OtlpConversionOptions {
  /** Lower-case request headers (x-langfuse-sdk-*). */
  headers: Record<string, string | string[] | undefined>;
  validationLimits?: Partial<ValidationLimits>;
}

const MAX_REASONS = 5;

export function convertOtlpRequest(request: OtlpTraceRequest, options: OtlpConversionOptions): OtlpConversion {
  const result: OtlpConversion = { groups: [], acceptedSpans: 0, rejectedSpans: 0, errorMessage: '' };
  const reasons: string[] = [];
  const reject = (reason: string) => {
    result.rejectedSpans++;
    if (reasons.length < MAX_REASONS) reasons.push(reason);
  };
  for (const resourceSpans of request.resourceSpans) {
    const resource = resourceSpans.resource;
    const events: IngestionEvent[] = [];
    for (const { scope, spans } of resourceSpans.scopeSpans) {
      for (const span of spans) {
        if (isInvalidSpan(span)) {
          reject(span.invalid);
          continue;
        }
        const converted = isLangfuseSpan(span, scope) ? toLangfuseEvents(span, resource, scope, options) : { events: [toPassthroughEvent(span, resource, scope)] };
        if ('rejection' in converted) {
          reject(`span ${span.spanId}: ${converted.rejection}`);
          continue;
        }
        result.acceptedSpans++;
        events.push(...converted.events);
      }
    }
    if (events.length > 0) result.groups.push({ source: sourceOf(resource, options.headers), events });
  }
  if (result.rejectedSpans > 0) {
    const more = result.rejectedSpans > reasons.length ? ` (and ${result.rejectedSpans - reasons.length} more)` : '';
    result.errorMessage = `${result.rejectedSpans} span(s) rejected: ${reasons.join('; ')}${more}`;
  }
  return result;
}

/** Langfuse's SDKs name their scope `langfuse-sdk`; LiteLLM's spans carry `langfuse.*` keys. */
function isLangfuseSpan(span: OtlpSpan, scope: OtlpScope): boolean {
  if (scope.name.startsWith('langfuse-sdk')) return true;
  for (const key in span.attributes) if (key.startsWith('langfuse.')) return true;
  return false;
}

/**
 * Headers first (the SDKs send x-langfuse-sdk-*); the integration is the resource's service.name,
 * else the sending program named by User-Agent: LiteLLM's exports carry an empty resource and
 * `User-Agent: litellm/<version>`, and its ingestion batches said `sdk_integration: litellm`.
 */
function sourceOf(resource: OtlpAttributes, headers: OtlpConversionOptions['headers']): RequestSource {
  const source = toRequestSource(undefined, headers);
  const service = resource['service.name'];
  if (!source.sdkIntegration && typeof service === 'string' && service !== '' && !service.startsWith('unknown_service')) {
    source.sdkIntegration = service.slice(0, 200);
  }
  const agent = headers['user-agent'];
  if (!source.sdkIntegration && typeof agent === 'string' && /^litellm\//i.test(agent)) source.sdkIntegration = 'litellm';
  return source;
}

// ---- spans with langfuse.* attributes ----

/** Trace-level keys: a span carrying one updates its trace (Langfuse's `hasTraceUpdates`). */
const TRACE_UPDATE_KEYS = [
  'langfuse.trace.name',
  'langfuse.trace.input',
  'langfuse.trace.output',
  'langfuse.trace.metadata',
  'user.id',
  'session.id',
  'langfuse.trace.public',
  'langfuse.trace.tags',
  'langfuse.user.id',
  'langfuse.session.id',
  'langfuse.observation.metadata.langfuse_user_id',
  'langfuse.observation.metadata.langfuse_session_id',
  'langfuse.observation.metadata.langfuse_tags',
];

function hasTraceUpdates(attributes: OtlpAttributes): boolean {
  if (TRACE_UPDATE_KEYS.some((key) => Boolean(attributes[key]))) return true;
  return Object.keys(attributes).some((key) => key.startsWith('langfuse.trace.metadata'));
}

function toLangfuseEvents(
  span: OtlpSpan,
  resource: OtlpAttributes,
  scope: OtlpScope,
  options: OtlpConversionOptions,
): { events: IngestionEvent[] } | { rejection: string } {
  const a = span.attributes;
  const startTime = nanosToIso(span.startTimeUnixNano);
  const endTime = nanosToIso(span.endTimeUnixNano);
  const isRoot = span.parentSpanId === undefined || String(a['langfuse.internal.as_root']) === 'true';
  const type = extractObservationType(a, resource, scope);
  const environment = firstPresent(a, resource, ['langfuse.environment', 'deployment.environment.name', 'deployment.environment']);
  const input = parseJsonish(a['langfuse.observation.input'] ?? a['gen_ai.input.messages'] ?? a['input.value']);
  const output = parseJsonish(a['langfuse.observation.output'] ?? a['gen_ai.output.messages'] ?? a['output.value']);
  const version = firstString(a, ['langfuse.version']) ?? stringOf(resource['service.version']);

  const body: Record<string, unknown> = {
    id: span.spanId,
    traceId: span.traceId,
    parentObservationId: span.parentSpanId ?? null,
    name: span.name,
    startTime,
    endTime,
    environment,
    metadata: extractMetadata(a, 'langfuse.observation.metadata'),
    level: extractLevel(a, span.status.code),
    statusMessage: stringOf(a['langfuse.observation.status_message']) ?? span.status.message ?? null,
  };
  if (version !== undefined) body.version = version;
  if (input !== undefined && input !== null) body.input = input;
  if (output !== undefined && output !== null) body.output = output;
  const completionStartTime = extractCompletionStartTime(a['langfuse.observation.completion_start_time']);
  if (completionStartTime) body.completionStartTime = completionStartTime;
  const model = firstString(a, ['langfuse.observation.model.name', 'gen_ai.response.model', 'gen_ai.request.model', 'llm.response.model', 'llm.model_name', 'model']);
  if (model) body.model = model;
  const modelParameters = extractModelParameters(a);
  if (modelParameters) body.modelParameters = modelParameters;
  const usageDetails = toUsageDetails(parseJsonObject(a['langfuse.observation.usage_details'])) ?? extractGenAiUsage(a);
  if (usageDetails) body.usageDetails = usageDetails;
  const costDetails = parseJsonObject(a['langfuse.observation.cost_details']) ?? costFromGenAi(a);
  if (costDetails) body.costDetails = costDetails;
  if (type === 'GENERATION') {
    const promptName = firstString(a, ['langfuse.observation.prompt.name', 'langfuse.prompt.name']);
    const promptVersion = Number(a['langfuse.observation.prompt.version'] ?? a['langfuse.prompt.version']);
    // Langfuse's schema wants both or neither.
    if (promptName && Number.isInteger(promptVersion) && promptVersion !== 0) {
      body.promptName = promptName;
      body.promptVersion = promptVersion;
    }
  }

  const raw: unknown[] = [];
  if (isRoot || hasTraceUpdates(a)) {
    raw.push({ id: `otlp:${span.traceId}:${span.spanId}:trace`, type: 'trace-create', timestamp: startTime, body: toTraceBody(span, resource, isRoot, startTime, environment, input, output) });
  }
  raw.push({ id: `otlp:${span.traceId}:${span.spanId}`, type: `${type.toLowerCase()}-create`, timestamp: endTime, body });

  const validation = validateBatch(raw, options.validationLimits);
  if (validation.rejected.length > 0) return { rejection: firstIssue(validation.rejected[0]!.error) };
  if (isRoot) {
    // The mark is added after validation, so no /ingestion payload can ever carry it.
    const observation = validation.accepted.find((e) => e.type !== 'trace-create') as ObservationEvent;
    observation.clientRoot = true;
  }
  return { events: validation.accepted };
}

function toTraceBody(
  span: OtlpSpan,
  resource: OtlpAttributes,
  isRoot: boolean,
  timestamp: string,
  environment: string | undefined,
  observationInput: JsonValue | undefined,
  observationOutput: JsonValue | undefined,
): Record<string, unknown> {
  const a = span.attributes;
  const body: Record<string, unknown> = { id: span.traceId, timestamp, environment };
  const name = stringOf(a['langfuse.trace.name']) ?? (isRoot ? span.name : undefined);
  if (name) body.name = name;
  const userId = firstString(a, ['langfuse.user.id', 'user.id', 'langfuse.observation.metadata.langfuse_user_id', 'langfuse.trace.metadata.langfuse_user_id']);
  if (userId) body.userId = userId;
  const sessionId = firstString(a, [
    'langfuse.session.id',
    'session.id',
    'gen_ai.conversation.id',
    'langfuse.observation.metadata.langfuse_session_id',
    'langfuse.trace.metadata.langfuse_session_id',
  ]);
  if (sessionId) body.sessionId = sessionId;
  const tags = extractTags(a);
  if (tags) body.tags = tags;
  const metadata = extractMetadata(a, 'langfuse.trace.metadata');
  if (Object.keys(metadata).length > 0) body.metadata = metadata;
  const isPublic = a['langfuse.trace.public'] ?? a['langfuse.public'];
  if (isPublic !== undefined && isPublic !== null) body.public = isPublic === true || isPublic === 'true';
  const version = firstString(a, ['langfuse.version']) ?? stringOf(resource['service.version']);
  if (version) body.version = version;
  const release = firstString(a, ['langfuse.release']) ?? stringOf(resource['langfuse.release']);
  if (release) body.release = release;
  // A root span's trace takes the observation's input/output when no trace-level one is set.
  const input = parseJsonish(a['langfuse.trace.input']) ?? (isRoot ? observationInput : undefined);
  const output = parseJsonish(a['langfuse.trace.output']) ?? (isRoot ? observationOutput : undefined);
  if (input !== undefined && input !== null) body.input = input;
  if (output !== undefined && output !== null) body.output = output;
  return body;
}

/** Span attributes first, then the resource, key by key (Langfuse's `extractEnvironment`). */
function firstPresent(attributes: OtlpAttributes, resource: OtlpAttributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = stringOf(attributes[key]) ?? stringOf(resource[key]);
    if (value) return value;
  }
  return undefined;
}

function stringOf(value: JsonValue | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An ISO string, or (older SDKs) a JSON-quoted one. */
function extractCompletionStartTime(value: JsonValue | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (isLangfuseDatetime(value)) return value;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed === 'string' && isLangfuseDatetime(parsed)) return parsed;
  } catch {
    // not JSON: no completion start time
  }
  return undefined;
}

/** The explicit JSON object, else OpenInference's, else `gen_ai.request.*` (Langfuse's order). */
function extractModelParameters(a: OtlpAttributes): Record<string, JsonValue> | undefined {
  const explicit = parseJsonObject(a['langfuse.observation.model.parameters']) ?? parseJsonObject(a['llm.invocation_parameters']);
  if (explicit) return explicit;
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(a)) {
    if (key.startsWith('gen_ai.request.') && key !== 'gen_ai.request.model') out[key.slice('gen_ai.request.'.length)] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Usage values as the ingestion schema wants them: non-negative integers. */
function toUsageDetails(value: Record<string, JsonValue> | undefined): Record<string, number> | undefined {
  if (!value) return undefined;
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(value)) if (typeof n === 'number' && Number.isFinite(n) && n >= 0) out[key] = Math.round(n);
  return Object.keys(out).length > 0 ? out : undefined;
}

function costFromGenAi(a: OtlpAttributes): Record<string, JsonValue> | undefined {
  const total = a['gen_ai.usage.cost'] ?? a['llm.cost.total'];
  if (total === undefined || total === null || total === '') return undefined;
  const n = Number(total);
  return Number.isFinite(n) ? { total: n } : undefined;
}

/** The first zod issue of a rejection, as `path: message`. */
function firstIssue(error: string): string {
  try {
    const issues = JSON.parse(error) as Array<{ path?: unknown[]; message?: string }>;
    const issue = issues[0];
    if (issue) return `${(issue.path ?? []).join('.') || 'event'}: ${issue.message ?? 'invalid'}`;
  } catch {
    // not the zod JSON: use it as it is
  }
  return error.slice(0, 200);
}

const NANOS_PER_MILLI = 1_000_000n;

/** Nanoseconds since the epoch → ISO 8601 with all nine fraction digits (the schema's datetime). */
export function nanosToIso(nanos: string): string {
  const value = BigInt(nanos);
  const millis = value / NANOS_PER_MILLI;
  const seconds = new Date(Number(millis)).toISOString().slice(0, 19);
  const fraction = (value % 1_000_000_000n).toString().padStart(9, '0');
  return `${seconds}.${fraction}Z`;
}

// ---- spans without langfuse.*: passed through ----

const KINDS: ReadonlyArray<PassthroughSpanBody['kind']> = ['INTERNAL', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS: ReadonlyArray<PassthroughSpanBody['status']['code']> = ['UNSET', 'OK', 'ERROR'];

function toPassthroughEvent(span: OtlpSpan, resource: OtlpAttributes, scope: OtlpScope): PassthroughSpanEvent {
  const body: PassthroughSpanBody = {
    id: span.spanId,
    traceId: span.traceId,
    name: span.name,
    kind: KINDS[span.kind] ?? 'INTERNAL',
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    attributes: toDraftAttributes(normalizeGenAiNames(span.attributes)),
    status: { code: STATUS[span.status.code] ?? 'UNSET', ...(span.status.message !== undefined ? { message: span.status.message } : {}) },
    resource: toDraftAttributes(resource),
    scope: { ...scope },
  };
  if (span.parentSpanId !== undefined) body.parentSpanId = span.parentSpanId;
  return { id: `otlp:${span.traceId}:${span.spanId}`, type: 'otel-span', timestamp: nanosToIso(span.endTimeUnixNano), body };
}

type DraftValue = PassthroughSpanBody['attributes'][string];

/** OTLP values an OTLP attribute can carry again: primitives and uniform arrays; the rest as JSON. */
function toDraftAttributes(attributes: OtlpAttributes): Record<string, DraftValue> {
  const out: Record<string, DraftValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (Array.isArray(value) && value.length > 0 && uniform(value)) out[key] = value as DraftValue;
    else out[key] = JSON.stringify(value);
  }
  return out;
}

function uniform(values: JsonValue[]): boolean {
  const first = typeof values[0];
  return (first === 'string' || first === 'number' || first === 'boolean') && values.every((v) => typeof v === first);
}
