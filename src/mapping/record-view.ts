// The view a mapping file's paths read from: the merged Langfuse record (`obs`, `trace`, `score`)
// plus `derived` values computed here (operation, provider, token arithmetic, messages, …).
// Derived values are computed lazily, once, and only when a rule asks for them.
import type { MergedObservation, MergedScore, MergedTrace } from '../assembly/merge.js';
import type { TopLevelSummary } from '../assembly/completed-record.js';
import { estimateCostUsd } from './cost-estimate.js';
import { toFinishReasons, toInputMessages, toOutputMessages, type ConvertedInput, type GenAiMessage } from './messages.js';
import { toOpenInferenceMessages, toOpenInferenceTools } from './openinference-messages.js';
import type { ProviderGuess, ProviderInference } from './provider-inference.js';
import type { TokenUsage } from './token-usage.js';

export type RecordView = Record<string, unknown>;

const NANOS_PER_SECOND = 1_000_000_000;

type Getter<C> = (ctx: C, d: Derived<C>) => unknown;

/** The derived values of one record kind, numbered once at module load. */
export class DerivedTable<C> {
  /** Getter index by name; a Map, so that no name can reach a prototype property. */
  readonly index: ReadonlyMap<string, number>;
  readonly getters: ReadonlyArray<Getter<C>>;
  constructor(getters: Readonly<Record<string, Getter<C>>>) {
    const entries = Object.entries(getters);
    this.index = new Map(entries.map(([name], i) => [name, i]));
    this.getters = entries.map(([, getter]) => getter);
  }
}

/** Marks a derived value not computed yet (undefined is a computed value). */
const NOT_YET = Symbol('not computed yet');

/**
 * Derived values of one record, computed the first time a path asks for them and then kept.
 * The getters are defined once per record kind (module level), so a view costs one small object
 * and one array of slots, not a closure per field. The slots replaced a Map keyed by name; with
 * paths compiled to steps that keep a value's number, the mapping of the LiteLLM records of
 * bench/map-encode.mjs went from ~13.1 to ~11.9 µs per record.
 */
export class Derived<C> {
  private readonly values: unknown[];
  constructor(
    readonly table: DerivedTable<C>,
    private readonly ctx: C,
  ) {
    this.values = new Array<unknown>(table.getters.length).fill(NOT_YET);
  }

  get<T = unknown>(key: string): T {
    const index = this.table.index.get(key);
    return (index === undefined ? undefined : this.at(index)) as T;
  }

  /** The value of the getter numbered `index` in this record's table. */
  at(index: number): unknown {
    const known = this.values[index];
    if (known !== NOT_YET) return known;
    const value = this.table.getters[index]!(this.ctx, this);
    this.values[index] = value;
    return value;
  }
}

/** JSON text for an attribute: strings stay as they are, everything else is JSON-encoded. */
function toJsonText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

/** OpenInference mime type of a value given as `input.value`/`output.value`. */
function toMimeType(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? 'text/plain' : 'application/json';
}

export type { TokenUsage };

const CACHE_READ_KEYS = ['input_cached_tokens', 'cache_read_input_tokens', 'input_cache_read', 'cache_read', 'cached_tokens'];
const CACHE_WRITE_KEYS = ['input_cache_creation', 'cache_creation_input_tokens', 'input_cache_write', 'cache_write', 'cache_creation'];
const REASONING_KEYS = ['output_reasoning_tokens', 'output_reasoning', 'reasoning_tokens', 'reasoning'];

/**
 * Langfuse usage buckets are disjoint (`input` excludes cache reads and writes, `output` excludes
 * reasoning); GenAI totals include them. `usageDetails` wins over the legacy `usage` object, as in
 * Langfuse's worker. Every input-side bucket (`input_*`, cache keys) adds to input_tokens, every
 * `output_*` bucket to output_tokens. Legacy `usage` in a unit other than TOKENS is not tokens.
 */
export function toTokenUsage(obs: Pick<MergedObservation, 'usage' | 'usageDetails'>): TokenUsage {
  const details = toLangfuseUsageDetails(tokenFields(obs));
  // One pass over the buckets, in their order (a generation's usage is read once per span; the
  // entry lists, filters and closures this replaced were ~2% of the mapping's CPU).
  let input: number | undefined;
  let output: number | undefined;
  // A key counted under two aliases (e.g. both cache_read names) must be counted once.
  let readCounted = false;
  let writeCounted = false;
  let reasoningCounted = false;
  for (const key of Object.keys(details)) {
    const value = details[key]!;
    if (CACHE_READ_KEYS.includes(key)) {
      if (!readCounted) input = (input ?? 0) + value;
      readCounted = true;
    } else if (CACHE_WRITE_KEYS.includes(key)) {
      if (!writeCounted) input = (input ?? 0) + value;
      writeCounted = true;
    } else if (key === 'input' || key.startsWith('input_')) {
      input = (input ?? 0) + value;
    } else if (REASONING_KEYS.includes(key)) {
      if (!reasoningCounted) output = (output ?? 0) + value;
      reasoningCounted = true;
    } else if (key === 'output' || key.startsWith('output_')) {
      output = (output ?? 0) + value;
    }
  }
  const usage: TokenUsage = {};
  if (input !== undefined) usage.input_tokens = input;
  if (output !== undefined) usage.output_tokens = output;
  const readKey = firstPresent(details, CACHE_READ_KEYS);
  const writeKey = firstPresent(details, CACHE_WRITE_KEYS);
  const reasoningKey = firstPresent(details, REASONING_KEYS);
  if (readKey) usage.cache_read_input_tokens = details[readKey]!;
  if (writeKey) usage.cache_write_input_tokens = details[writeKey]!;
  if (reasoningKey) usage.reasoning_output_tokens = details[reasoningKey]!;
  if (details.total !== undefined) usage.total_tokens = details.total;
  return usage;
}

/** The first of `keys` (in their order) that `details` holds. */
function firstPresent(details: Record<string, number>, keys: readonly string[]): string | undefined {
  for (const key of keys) if (details[key] !== undefined) return key;
  return undefined;
}

/** Total cost in USD: `costDetails.total`, else `usage.totalCost`, else the sum of input and output cost. */
export function toTotalCost(obs: Pick<MergedObservation, 'usage' | 'costDetails'>): number | undefined {
  const cost = toLangfuseCostDetails(obs);
  if (cost.total !== undefined) return cost.total;
  const keys = Object.keys(cost);
  if (keys.length > 0 && keys.every((k) => k === 'input' || k === 'output')) return (cost.input ?? 0) + (cost.output ?? 0);
  return undefined;
}

/** Langfuse's own usage map: legacy `usage` first, `usageDetails` spread over it (its worker's rule). */
function toLangfuseUsageDetails(obs: Pick<MergedObservation, 'usage' | 'usageDetails'>): Record<string, number> {
  return spreadOver(obs.usage?.input, obs.usage?.output, obs.usage?.total, obs.usageDetails);
}

/**
 * The legacy `usage` object counts in `usage.unit` (Dify sends CHARACTERS; the SDKs allow
 * MILLISECONDS, SECONDS, IMAGES, REQUESTS): only TOKENS (or no unit) are tokens.
 */
export function isTokenUnit(unit: string | null | undefined): boolean {
  return unit === undefined || unit === null || unit.toUpperCase() === 'TOKENS';
}

/** Usage in a unit other than tokens: `{unit, input, output, total}`, for langfuse.observation.usage.*. */
export function toNonTokenUsage(obs: Pick<MergedObservation, 'usage'>): Record<string, string | number> | undefined {
  const usage = obs.usage;
  if (!usage || isTokenUnit(usage.unit)) return undefined;
  const out: Record<string, string | number> = { unit: String(usage.unit) };
  for (const key of ['input', 'output', 'total'] as const) if (typeof usage[key] === 'number') out[key] = usage[key];
  return out;
}

/** Tokens without their legacy `usage` numbers when those count something else. */
function tokenFields(obs: Pick<MergedObservation, 'usage' | 'usageDetails'>): Pick<MergedObservation, 'usage' | 'usageDetails'> {
  if (isTokenUnit(obs.usage?.unit)) return obs;
  return obs.usageDetails ? { usageDetails: obs.usageDetails } : {};
}

/**
 * An OpenAI-style `usage` inside the output (Dify's LLM node output `{text, usage, finish_reason}`,
 * a whole chat-completion response): tokens when the client's own usage said none.
 */
function toOutputTokenUsage(output: unknown): TokenUsage {
  const usage = isObj(output) && isObj(output.usage) ? output.usage : undefined;
  if (!usage) return {};
  const out: TokenUsage = {};
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const input = num(usage.prompt_tokens) ?? num(usage.input_tokens);
  const output_ = num(usage.completion_tokens) ?? num(usage.output_tokens);
  const total = num(usage.total_tokens);
  if (input !== undefined) out.input_tokens = input;
  if (output_ !== undefined) out.output_tokens = output_;
  if (total !== undefined) out.total_tokens = total;
  return out;
}

/**
 * Dify's price: `total_price` (a decimal string or number) beside its `currency`, counted when the
 * currency is USD or unnamed. Dify puts it in an LLM node's output usage and, for workflow nodes,
 * in the observation's metadata (the node's execution metadata: total_tokens, total_price, currency).
 */
function difyPrice(holder: unknown): number | undefined {
  if (!isObj(holder) || holder.total_price === undefined || holder.total_price === null) return undefined;
  if (typeof holder.currency === 'string' && holder.currency.toUpperCase() !== 'USD') return undefined;
  const n = typeof holder.total_price === 'string' && holder.total_price.trim() !== '' ? Number(holder.total_price) : holder.total_price;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** The client's own price in Dify's shapes: the output's `usage`, else the metadata. */
function toDifyCost(obs: Pick<MergedObservation, 'output' | 'metadata'>): number | undefined {
  return difyPrice(isObj(obs.output) ? obs.output.usage : undefined) ?? difyPrice(obs.metadata);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Langfuse's own cost map: `usage` costs first, `costDetails` spread over it. */
function toLangfuseCostDetails(obs: Pick<MergedObservation, 'usage' | 'costDetails'>): Record<string, number> {
  return spreadOver(obs.usage?.inputCost, obs.usage?.outputCost, obs.usage?.totalCost, obs.costDetails);
}

/** `{input, output, total}` (the present ones, in that order) with `details` spread over them. */
function spreadOver(
  input: number | null | undefined,
  output: number | null | undefined,
  total: number | null | undefined,
  details: Record<string, number> | null | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  if (input != null) out.input = input;
  if (output != null) out.output = output;
  if (total != null) out.total = total;
  return details ? Object.assign(out, details) : out;
}

function jsonOfNonEmpty(value: Record<string, number>): string | undefined {
  return Object.keys(value).length > 0 ? JSON.stringify(value) : undefined;
}

/** The second last formatted by {@link toIsoMicros} (epoch milliseconds) and its text up to the dot. */
let lastSecondMillis = Number.NaN;
let lastSecondText = '';

/**
 * ISO 8601 in UTC with microseconds, from nanoseconds (Langfuse keeps milliseconds anyway): the
 * digits before the fraction are Date#toISOString's, the fraction is the six digits of the time
 * (truncated to microseconds, as BigInt division truncates). The last second's text is kept:
 * times of one batch mostly share their second, and toISOString cost ~0.9 µs per call where the
 * kept text costs ~0.15 µs (node micro-measure, 1,000 times from one LiteLLM batch).
 */
export function toIsoMicros(nanos: bigint): string {
  const micros = Number(nanos / 1000n);
  // Beyond 2^53 µs (year 2255) the Number arithmetic below would round.
  if (!Number.isSafeInteger(micros)) return toIsoMicrosExact(nanos);
  const subMillis = micros % 1000;
  // Milliseconds truncated toward zero (as `nanos / 1_000_000n`), and their digits below the dot.
  const millis = (micros - subMillis) / 1000;
  let fraction = millis % 1000;
  if (fraction < 0) fraction += 1000;
  const second = millis - fraction;
  if (second !== lastSecondMillis) {
    lastSecondText = new Date(second).toISOString().slice(0, -4);
    lastSecondMillis = second;
  }
  return `${lastSecondText}${String(fraction * 1000 + (subMillis < 0 ? subMillis + 1000 : subMillis)).padStart(6, '0')}Z`;
}

/** The same text with BigInt arithmetic only, for times that a Number cannot hold exactly. */
export function toIsoMicrosExact(nanos: bigint): string {
  const millis = nanos / 1_000_000n;
  const micros = (nanos / 1000n) % 1000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, -1)}${String(micros < 0n ? micros + 1000n : micros).padStart(3, '0')}Z`;
}

/** Low-cardinality error type from a status message such as `litellm.RateLimitError: …`. */
export function toErrorType(statusMessage: string | undefined): string {
  const match = statusMessage ? /(?:^|[\s.:(])([A-Z][A-Za-z0-9]*(?:Error|Exception|Timeout))\b/.exec(statusMessage) : null;
  return match?.[1] ?? '_OTHER';
}

const EMBEDDING_NAME = /(^|[-_:\s])a?embeddings?($|[-_:\s])/i;
// LiteLLM names a /v1/completions call `litellm-atext_completion` and routes it with a
// `text-completion-<provider>/` model prefix; its input is still wrapped as `{messages}`.
const TEXT_COMPLETION_NAME = /(^|[-_:\s])a?text_completion($|[-_:\s])/i;
const TEXT_COMPLETION_MODEL = /^text-completion-[\w-]+\//i;

function isTextCompletionCall(obs: MergedObservation, trace: MergedTrace | undefined): boolean {
  if (obs.model && TEXT_COMPLETION_MODEL.test(obs.model)) return true;
  if (obs.name && TEXT_COMPLETION_NAME.test(obs.name)) return true;
  const name = trace?.name;
  return name !== undefined && TEXT_COMPLETION_NAME.test(name);
}

/**
 * On a failure LiteLLM sends the error text as `output`, equal to `statusMessage`: that is the
 * error, already in the status, not a reply of the model.
 */
function isErrorEcho(obs: MergedObservation): boolean {
  if (obs.level !== 'ERROR' || typeof obs.output !== 'string') return false;
  const message = obs.statusMessage?.trim();
  return message !== undefined && message !== '' && obs.output.trim() === message;
}

/** LiteLLM's `langfuse` callbacks put these in every generation's metadata (1.103 and 1.104+). */
function isLitellmCall(obs: MergedObservation): boolean {
  const meta = isObj(obs.metadata) ? obs.metadata : {};
  return 'hidden_params' in meta || 'litellm_call_id' in meta || 'litellm_response_cost' in meta;
}

/** LiteLLM generation ids are `time-HH-MM-SS-ffffff_<response id>`. */
const LITELLM_LOGGING_ID = /^time-\d{2}-\d{2}-\d{2}-\d+_(.+)$/;

function isEmbeddingCall(obs: MergedObservation, trace: MergedTrace | undefined): boolean {
  if (obs.type === 'EMBEDDING') return true;
  if (obs.name && EMBEDDING_NAME.test(obs.name)) return true;
  const name = trace?.name;
  return name !== undefined && EMBEDDING_NAME.test(name);
}

export interface ObservationViewOptions {
  inferProvider: ProviderInference;
  /**
   * The observation's trace as merged so far, when a trace-create arrived: its name (LiteLLM names
   * embedding calls `litellm-aembedding`) and the trace context that belongs on every span.
   */
  trace?: MergedTrace;
  incomplete: boolean;
  /** Estimate a cost from usage and model when the client sent none (BRIDGE_ESTIMATE_COST). */
  estimateCost?: boolean;
}

interface ObservationContext {
  obs: MergedObservation;
  options: ObservationViewOptions;
}

type Getters<C> = Readonly<Record<string, Getter<C>>>;

const OBSERVATION_DERIVED: Getters<ObservationContext> = {
  type: ({ obs }) => obs.type.toLowerCase(),
  chat_input: ({ obs }) => (obs.type === 'GENERATION' || obs.type === 'EMBEDDING' ? toInputMessages(obs.input) : undefined),
  operation: ({ obs, options }, d) => {
    if (obs.type !== 'GENERATION' && obs.type !== 'EMBEDDING') return undefined;
    if (isEmbeddingCall(obs, options.trace)) return 'embeddings';
    if (isTextCompletionCall(obs, options.trace)) return 'text_completion';
    return d.get('chat_input') ? 'chat' : 'text_completion';
  },
  // The output as the model's reply: absent when it only repeats the error.
  reply: ({ obs }) => (isErrorEcho(obs) ? undefined : obs.output),
  provider_guess: ({ obs, options }) => options.inferProvider(obs.model, obs.metadata, obs.modelParameters),
  provider: (_ctx, d) => (d.get('operation') ? d.get<ProviderGuess>('provider_guess').provider : undefined),
  request_model: (_ctx, d) => d.get<ProviderGuess>('provider_guess').model,
  usage: ({ obs }) => {
    const usage = toTokenUsage(obs);
    return Object.keys(usage).length > 0 ? usage : toOutputTokenUsage(obs.output);
  },
  non_token_usage: ({ obs }) => toNonTokenUsage(obs),
  sent_cost: ({ obs }) => toTotalCost(obs) ?? toDifyCost(obs),
  estimated_cost: ({ obs, options }, d) => {
    if (!options.estimateCost || d.get('sent_cost') !== undefined || !d.get('operation')) return undefined;
    return estimateCostUsd({
      model: d.get<string | undefined>('request_model'),
      provider: d.get<string | undefined>('provider'),
      usage: d.get<TokenUsage>('usage'),
      at: new Date(Number(obs.startTimeNanos / 1_000_000n)),
    });
  },
  cost_total: (_ctx, d) => d.get<number | undefined>('sent_cost') ?? d.get<number | undefined>('estimated_cost'),
  cost_estimated: (_ctx, d) => (d.get('estimated_cost') !== undefined ? true : undefined),
  // langchain-openai sends max_completion_tokens, Gemini-style clients max_output_tokens: all are gen_ai.request.max_tokens.
  max_tokens: ({ obs }) => {
    const p = obs.modelParameters;
    return p ? (p.max_tokens ?? p.max_completion_tokens ?? p.max_output_tokens ?? p.maxTokens ?? p.max_new_tokens) : undefined;
  },
  // As the client sent them; a failed call ended abnormally, which the semconv reports as `error`.
  finish_reasons: ({ obs }, d) => toFinishReasons(d.get('reply'), obs.metadata) ?? (obs.level === 'ERROR' && d.get('operation') ? ['error'] : undefined),
  response_id: ({ obs }) => {
    const out = obs.output;
    if (isObj(out) && typeof out.id === 'string' && out.id) return out.id;
    // LiteLLM ≥ 1.104 (OTLP) puts it in the metadata; before, in the generation id.
    const meta = isObj(obs.metadata) ? obs.metadata : {};
    if (typeof meta.response_id === 'string' && meta.response_id) return meta.response_id;
    return LITELLM_LOGGING_ID.exec(obs.id)?.[1];
  },
  response_model: ({ obs, options }) => {
    const out = obs.output;
    if (isObj(out) && typeof out.model === 'string' && out.model) return out.model;
    const meta = isObj(obs.metadata) ? obs.metadata : {};
    const hidden = isObj(meta.hidden_params) ? meta.hidden_params : {};
    // LiteLLM's hidden_params name the model it called, with its routing prefix.
    const called = typeof hidden.litellm_model_name === 'string' ? hidden.litellm_model_name : undefined;
    return called ? (options.inferProvider(called, undefined, undefined).model ?? called) : undefined;
  },
  // Embedding inputs are not a conversation: they stay JSON in langfuse.observation.input.
  input_messages: (_ctx, d) => {
    const input = d.get<ConvertedInput | undefined>('chat_input');
    return input && d.get('operation') !== 'embeddings' ? JSON.stringify(input.messages) : undefined;
  },
  system_instructions: (_ctx, d) => {
    const parts = d.get<ConvertedInput | undefined>('chat_input')?.systemInstructions;
    return parts ? JSON.stringify(parts) : undefined;
  },
  tool_definitions: (_ctx, d) => {
    const tools = d.get<ConvertedInput | undefined>('chat_input')?.toolDefinitions;
    return tools ? JSON.stringify(tools) : undefined;
  },
  output_messages: (_ctx, d) => {
    const op = d.get('operation');
    if (!op || op === 'embeddings') return undefined;
    const messages = toOutputMessages(d.get('reply'), true, d.get<string[] | undefined>('finish_reasons'));
    return messages ? JSON.stringify(messages) : undefined;
  },
  // OpenInference: flattened messages (`<i>.message.*`), tools, and the raw values with mime types.
  oi_input_messages: (_ctx, d) => {
    const input = d.get<ConvertedInput | undefined>('chat_input');
    if (!input || d.get('operation') === 'embeddings') return undefined;
    const system: GenAiMessage[] = input.systemInstructions ? [{ role: 'system', parts: input.systemInstructions }] : [];
    return toOpenInferenceMessages([...system, ...input.messages]);
  },
  oi_output_messages: (_ctx, d) => {
    const op = d.get('operation');
    return op && op !== 'embeddings' ? toOpenInferenceMessages(toOutputMessages(d.get('reply'), true)) : undefined;
  },
  oi_tools: (_ctx, d) => toOpenInferenceTools(d.get<ConvertedInput | undefined>('chat_input')?.toolDefinitions),
  input_value: ({ obs }) => toJsonText(obs.input),
  input_mime_type: ({ obs }) => toMimeType(obs.input),
  output_value: (_ctx, d) => toJsonText(d.get('reply')),
  output_mime_type: (_ctx, d) => toMimeType(d.get('reply')),
  // Content that is not chat messages stays JSON in langfuse.observation.input/output.
  input_json: ({ obs }, d) => (d.get('input_messages') ? undefined : toJsonText(obs.input)),
  output_json: (_ctx, d) => (d.get('output_messages') ? undefined : toJsonText(d.get('reply'))),
  time_to_first_chunk: ({ obs }) => {
    const first = obs.completionStartTimeNanos;
    if (first === undefined || first < obs.startTimeNanos) return undefined;
    // LiteLLM sends completionStartTime = endTime for calls that did not stream (over OTLP, from
    // 1.104, stamped at or just after the span's end): no first chunk. Other clients only when the
    // two are equal to the microsecond: the JS SDK's completion start (its wall clock) may land
    // after the span's end (its hrtime clock) and still be a real first chunk.
    const gap = obs.endTimeNanos !== undefined ? obs.endTimeNanos - first : undefined;
    const notStreamed = obs.modelParameters?.stream !== true && gap !== undefined && gap < 1_000n;
    if (notStreamed && (gap >= 0n || isLitellmCall(obs))) return undefined;
    return Number(first - obs.startTimeNanos) / NANOS_PER_SECOND;
  },
  error_type: ({ obs }) => (obs.level === 'ERROR' ? toErrorType(obs.statusMessage) : undefined),
  incomplete: ({ options }) => (options.incomplete ? true : undefined),
  prompt_version: ({ obs }) => (obs.promptVersion != null ? String(obs.promptVersion) : undefined),
  model_parameters_json: ({ obs }) => (obs.modelParameters ? JSON.stringify(obs.modelParameters) : undefined),
  metadata_json: ({ obs }) => toJsonText(obs.metadata),
  input_raw_json: ({ obs }) => toJsonText(obs.input),
  output_raw_json: ({ obs }) => toJsonText(obs.output),
  usage_details_json: ({ obs }) => jsonOfNonEmpty(toLangfuseUsageDetails(obs)),
  cost_details_json: ({ obs }) => jsonOfNonEmpty(toLangfuseCostDetails(obs)),
  completion_start_time: ({ obs }) => (obs.completionStartTimeNanos !== undefined ? toIsoMicros(obs.completionStartTimeNanos) : undefined),
  trace_id: ({ obs }) => obs.traceId,
};

const OBSERVATION_TABLE = new DerivedTable(OBSERVATION_DERIVED);

export function observationView(obs: MergedObservation, options: ObservationViewOptions): RecordView {
  // `trace` is readable from observation rules too (trace.userId, trace.sessionId, …).
  return { obs, trace: options.trace ?? { id: obs.traceId }, derived: new Derived(OBSERVATION_TABLE, { obs, options }) };
}

interface RootContext {
  trace: MergedTrace | undefined;
  traceId: string;
  firstObservation: TopLevelSummary | undefined;
}

const ROOT_DERIVED: Getters<RootContext> = {
  trace_id: ({ traceId }) => traceId,
  first_observation_name: ({ firstObservation }) => firstObservation?.name,
  input_json: ({ trace }) => toJsonText(trace?.input),
  output_json: ({ trace }) => toJsonText(trace?.output),
  tags: ({ trace }) => (trace && trace.tags.length > 0 ? trace.tags : undefined),
  public: ({ trace }) => (trace?.public ? true : undefined),
  synthetic: ({ trace }) => (trace ? undefined : true),
  timestamp: ({ trace }) => (trace ? toIsoMicros(trace.timestampNanos) : undefined),
  input_value: ({ trace }) => toJsonText(trace?.input),
  input_mime_type: ({ trace }) => toMimeType(trace?.input),
  output_value: ({ trace }) => toJsonText(trace?.output),
  output_mime_type: ({ trace }) => toMimeType(trace?.output),
  metadata_json: ({ trace }) => toJsonText(trace?.metadata),
};

const ROOT_TABLE = new DerivedTable(ROOT_DERIVED);

export function rootView(trace: MergedTrace | undefined, traceId: string, firstObservation: TopLevelSummary | undefined): RecordView {
  return { trace: trace ?? { id: traceId }, derived: new Derived(ROOT_TABLE, { trace, traceId, firstObservation }) };
}

const SCORE_DERIVED: Getters<MergedScore> = {
  value_number: (score) => (typeof score.value === 'number' ? score.value : undefined),
  value_label: (score) => {
    if (typeof score.value === 'string') return score.value;
    if (score.dataType === 'BOOLEAN') return score.value === 1 ? 'true' : 'false';
    return undefined;
  },
  metadata_json: (score) => toJsonText(score.metadata),
};

const SCORE_TABLE = new DerivedTable(SCORE_DERIVED);

export function scoreView(score: MergedScore): RecordView {
  return { score, derived: new Derived(SCORE_TABLE, score) };
}
