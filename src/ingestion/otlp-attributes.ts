// Reading Langfuse's meaning out of OTLP span attributes, with the precedence Langfuse's own OTel
// ingestion uses (packages/shared/src/server/otel/OtelIngestionProcessor.ts, attributes.ts and
// ObservationTypeMapper.ts): small pure helpers for otlp-to-events.ts. No HTTP, no OTel types.
import type { JsonValue, ObservationKind, ObservationLevel } from './ingestion-event.js';
import type { OtlpAttributes } from './otlp-span.js';

/** The first attribute among `keys` with a truthy value, as a string (non-strings JSON-encoded). */
export function firstString(attributes: OtlpAttributes, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (value === undefined || value === null || value === '' || value === false || value === 0) continue;
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  return undefined;
}

/** A JSON-text attribute parsed when it holds an object or array; other strings stay as they are. */
export function parseJsonish(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return value;
  try {
    return JSON.parse(trimmed) as JsonValue;
  } catch {
    return value;
  }
}

/** An attribute that must be a JSON object (usage, cost, model parameters, metadata). */
export function parseJsonObject(value: JsonValue | undefined): Record<string, JsonValue> | undefined {
  const parsed = parseJsonish(value);
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : undefined;
}

/**
 * Metadata for one domain: the JSON object under `prefix` (or `langfuse.metadata`), then every
 * flattened `<prefix>.<key>` attribute on top (Langfuse's `extractMetadata`).
 */
export function extractMetadata(attributes: OtlpAttributes, prefix: string): Record<string, JsonValue> {
  const top = parseJsonObject(attributes[prefix]) ?? parseJsonObject(attributes['langfuse.metadata']) ?? {};
  const out: Record<string, JsonValue> = { ...top };
  for (const dotted of [`${prefix}.`, 'langfuse.metadata.']) {
    for (const [key, value] of Object.entries(attributes)) {
      // LiteLLM writes nested values as JSON text; the ingestion path had them as objects.
      if (key.startsWith(dotted) && key.length > dotted.length) out[key.slice(dotted.length)] = parseJsonish(value) ?? null;
    }
  }
  return out;
}

/** Tags: a list, a JSON list, a comma-separated string or one tag (Langfuse's `extractTags`). */
export function extractTags(attributes: OtlpAttributes): string[] | undefined {
  const value =
    truthy(attributes['langfuse.trace.tags']) ??
    truthy(attributes['langfuse.tags']) ??
    truthy(attributes['langfuse.observation.metadata.langfuse_tags']) ??
    truthy(attributes['langfuse.trace.metadata.langfuse_tags']);
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map((tag) => (typeof tag === 'string' ? tag : JSON.stringify(tag)));
  if (typeof value !== 'string') return [JSON.stringify(value)];
  const parsed = parseJsonish(value);
  if (Array.isArray(parsed)) return parsed.map((tag) => (typeof tag === 'string' ? tag : JSON.stringify(tag)));
  if (value.includes(',')) return value.split(',').map((tag) => tag.trim());
  return [value];
}

function truthy(value: JsonValue | undefined): JsonValue | undefined {
  return value === undefined || value === null || value === '' || value === false || value === 0 ? undefined : value;
}

const LEVEL_ALIASES: Record<string, ObservationLevel> = {
  DEBUG: 'DEBUG',
  TRACE: 'DEBUG',
  VERBOSE: 'DEBUG',
  DEFAULT: 'DEFAULT',
  INFO: 'DEFAULT',
  LOG: 'DEFAULT',
  NOTICE: 'DEFAULT',
  OK: 'DEFAULT',
  SUCCESS: 'DEFAULT',
  WARNING: 'WARNING',
  WARN: 'WARNING',
  ERROR: 'ERROR',
  FATAL: 'ERROR',
  CRITICAL: 'ERROR',
};

/** `langfuse.observation.level` with Langfuse's aliases; else ERROR for an error status. */
export function extractLevel(attributes: OtlpAttributes, statusCode: number): ObservationLevel {
  const value = attributes['langfuse.observation.level'];
  const alias = typeof value === 'string' ? LEVEL_ALIASES[value.trim().toUpperCase()] : undefined;
  return alias ?? (statusCode === 2 ? 'ERROR' : 'DEFAULT');
}

const LANGFUSE_TYPES: Record<string, ObservationKind> = {
  span: 'SPAN',
  generation: 'GENERATION',
  event: 'EVENT',
  embedding: 'EMBEDDING',
  agent: 'AGENT',
  tool: 'TOOL',
  chain: 'CHAIN',
  retriever: 'RETRIEVER',
  guardrail: 'GUARDRAIL',
  evaluator: 'EVALUATOR',
};
const OPENINFERENCE_KINDS: Record<string, ObservationKind> = {
  CHAIN: 'CHAIN',
  RETRIEVER: 'RETRIEVER',
  LLM: 'GENERATION',
  EMBEDDING: 'EMBEDDING',
  AGENT: 'AGENT',
  TOOL: 'TOOL',
  GUARDRAIL: 'GUARDRAIL',
  EVALUATOR: 'EVALUATOR',
};
const GENAI_OPERATIONS: Record<string, ObservationKind> = {
  chat: 'GENERATION',
  completion: 'GENERATION',
  text_completion: 'GENERATION',
  generate_content: 'GENERATION',
  generate: 'GENERATION',
  embeddings: 'EMBEDDING',
  invoke_agent: 'AGENT',
  create_agent: 'AGENT',
  execute_tool: 'TOOL',
};
const MODEL_KEYS = ['langfuse.observation.model.name', 'gen_ai.request.model', 'gen_ai.response.model', 'llm.model_name', 'model'];
/** Keys that make a Python SDK ≤ 3.3 `span` a generation (Langfuse issue 8682). */
const GENERATION_KEYS = [
  'langfuse.observation.model.name',
  'langfuse.observation.cost_details',
  'langfuse.observation.usage_details',
  'langfuse.observation.completion_start_time',
  'langfuse.observation.model.parameters',
  'langfuse.observation.prompt.name',
  'langfuse.observation.prompt.version',
];

/** The observation type, by Langfuse's mapper priorities. */
export function extractObservationType(
  attributes: OtlpAttributes,
  resource: OtlpAttributes,
  scope: { name: string; version?: string },
): ObservationKind {
  const declared = attributes['langfuse.observation.type'];
  if (declared === 'span' && scope.name === 'langfuse-sdk' && resource['telemetry.sdk.language'] === 'python' && isPythonSdkAtMost33(scope.version)) {
    if (GENERATION_KEYS.some((key) => key in attributes)) return 'GENERATION';
  }
  const byType = typeof declared === 'string' ? LANGFUSE_TYPES[declared] : undefined;
  if (byType) return byType;
  const oi = attributes['openinference.span.kind'];
  const byOpenInference = typeof oi === 'string' ? OPENINFERENCE_KINDS[oi] : undefined;
  if (byOpenInference) return byOpenInference;
  const op = attributes['gen_ai.operation.name'];
  const byOperation = typeof op === 'string' ? GENAI_OPERATIONS[op] : undefined;
  if (byOperation) return byOperation;
  if (MODEL_KEYS.some((key) => truthy(attributes[key]) !== undefined)) return 'GENERATION';
  return 'SPAN';
}

function isPythonSdkAtMost33(version: string | undefined): boolean {
  if (!version) return true;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major < 3 || (major === 3 && minor <= 3);
}

/** Token counts from `gen_ai.usage.*` / `llm.token_count.*`, Langfuse's generic rule. */
export function extractGenAiUsage(attributes: OtlpAttributes): Record<string, number> | undefined {
  const raw: Record<string, number> = {};
  for (const [key, value] of Object.entries(attributes)) {
    let name: string | undefined;
    if (key.startsWith('gen_ai.usage.') && key !== 'gen_ai.usage.cost') name = key.slice('gen_ai.usage.'.length);
    else if (key.startsWith('llm.token_count.')) name = key.slice('llm.token_count.'.length);
    if (name === undefined) continue;
    const n = Number(value);
    if (value !== null && value !== '' && Number.isFinite(n)) raw[name] = n;
  }
  if (Object.keys(raw).length === 0) return undefined;
  const pick = (...names: string[]) => names.map((n) => raw[n]).find((v) => v !== undefined);
  const input = pick('prompt_tokens', 'input_tokens', 'prompt');
  const output = pick('completion_tokens', 'output_tokens', 'completion');
  const total = pick('total_tokens', 'total');
  const cacheRead = pick('cache_read.input_tokens', 'cache_read_input_tokens', 'cache_read_tokens', 'details.cache_read_tokens', 'prompt_details.cache_read', 'input_cached_tokens');
  const cacheWrite = pick('cache_creation.input_tokens', 'cache_creation_input_tokens', 'cache_write_tokens', 'details.cache_write_tokens', 'prompt_details.cache_write', 'input_cache_creation');
  const reasoning = pick('reasoning.output_tokens', 'completion_details.reasoning');
  const out: Record<string, number> = {};
  if (input !== undefined) out.input = Math.max(input - (cacheRead ?? 0) - (cacheWrite ?? 0), 0);
  if (output !== undefined) out.output = Math.max(output - (reasoning ?? 0), 0);
  if (total !== undefined) out.total = total;
  if (cacheRead !== undefined) out.input_cached_tokens = cacheRead;
  if (cacheWrite !== undefined) out.input_cache_creation = cacheWrite;
  if (reasoning !== undefined) out.output_reasoning_tokens = reasoning;
  return Object.keys(out).length > 0 ? out : undefined;
}
