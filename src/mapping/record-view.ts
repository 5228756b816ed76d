// The view a mapping file's paths read from: the merged Langfuse record (`obs`, `trace`, `score`)
// plus `derived` values computed here (operation, provider, token arithmetic, messages, …).
// Derived values are computed lazily, once, and only when a rule asks for them.
import type { MergedObservation, MergedScore, MergedTrace } from '../assembly/merge.js';
import type { TopLevelSummary } from '../assembly/completed-record.js';
import { toInputMessages, toOutputMessages, type ConvertedInput } from './messages.js';
import type { ProviderGuess, ProviderInference } from './provider-inference.js';

export type RecordView = Record<string, unknown>;

const NANOS_PER_SECOND = 1_000_000_000;

/**
 * Derived values of one record, computed the first time a path asks for them and then kept.
 * The getters are defined once per record kind (module level), so a view costs one small object
 * and a Map, not a closure per field.
 */
export class Derived<C> {
  private readonly memo = new Map<string, unknown>();
  constructor(
    private readonly getters: Readonly<Record<string, (ctx: C, d: Derived<C>) => unknown>>,
    private readonly ctx: C,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.getters, key);
  }

  get<T = unknown>(key: string): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const getter = this.getters[key];
    const value = getter ? getter(this.ctx, this) : undefined;
    this.memo.set(key, value);
    return value as T;
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

export interface TokenUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_write_input_tokens?: number;
  reasoning_output_tokens?: number;
  total_tokens?: number;
}

const CACHE_READ_KEYS = ['input_cached_tokens', 'cache_read_input_tokens', 'input_cache_read', 'cache_read', 'cached_tokens'];
const CACHE_WRITE_KEYS = ['input_cache_creation', 'cache_creation_input_tokens', 'input_cache_write', 'cache_write', 'cache_creation'];
const REASONING_KEYS = ['output_reasoning_tokens', 'output_reasoning', 'reasoning_tokens', 'reasoning'];

/**
 * Langfuse usage buckets are disjoint (`input` excludes cache reads and writes, `output` excludes
 * reasoning); GenAI totals include them. `usageDetails` wins over the legacy `usage` object, as in
 * Langfuse's worker. Every input-side bucket (`input_*`, cache keys) adds to input_tokens, every
 * `output_*` bucket to output_tokens.
 */
export function toTokenUsage(obs: Pick<MergedObservation, 'usage' | 'usageDetails'>): TokenUsage {
  const details = toLangfuseUsageDetails(obs);
  const pick = (keys: string[]) => keys.find((k) => details[k] !== undefined);
  const readKey = pick(CACHE_READ_KEYS);
  const writeKey = pick(CACHE_WRITE_KEYS);
  const reasoningKey = pick(REASONING_KEYS);
  const inputSide = Object.entries(details).filter(
    ([k]) => k === 'input' || k.startsWith('input_') || CACHE_READ_KEYS.includes(k) || CACHE_WRITE_KEYS.includes(k),
  );
  const outputSide = Object.entries(details).filter(([k]) => k === 'output' || k.startsWith('output_') || REASONING_KEYS.includes(k));
  // A key counted under two aliases (e.g. both cache_read names) must be counted once.
  const sum = (entries: Array<[string, number]>, aliasGroups: string[][]) => {
    const seenGroups = new Set<number>();
    let total = 0;
    for (const [key, value] of entries) {
      const group = aliasGroups.findIndex((g) => g.includes(key));
      if (group >= 0) {
        if (seenGroups.has(group)) continue;
        seenGroups.add(group);
      }
      total += value;
    }
    return total;
  };
  const usage: TokenUsage = {};
  if (inputSide.length > 0) usage.input_tokens = sum(inputSide, [CACHE_READ_KEYS, CACHE_WRITE_KEYS]);
  if (outputSide.length > 0) usage.output_tokens = sum(outputSide, [REASONING_KEYS]);
  if (readKey) usage.cache_read_input_tokens = details[readKey]!;
  if (writeKey) usage.cache_write_input_tokens = details[writeKey]!;
  if (reasoningKey) usage.reasoning_output_tokens = details[reasoningKey]!;
  if (details.total !== undefined) usage.total_tokens = details.total;
  return usage;
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
  return spreadOver({ input: obs.usage?.input, output: obs.usage?.output, total: obs.usage?.total }, obs.usageDetails);
}

/** Langfuse's own cost map: `usage` costs first, `costDetails` spread over it. */
function toLangfuseCostDetails(obs: Pick<MergedObservation, 'usage' | 'costDetails'>): Record<string, number> {
  return spreadOver({ input: obs.usage?.inputCost, output: obs.usage?.outputCost, total: obs.usage?.totalCost }, obs.costDetails);
}

function spreadOver(base: Record<string, number | null | undefined>, details: Record<string, number> | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(base)) if (value != null) out[key] = value;
  return Object.assign(out, details ?? {});
}

function jsonOfNonEmpty(value: Record<string, number>): string | undefined {
  return Object.keys(value).length > 0 ? JSON.stringify(value) : undefined;
}

/** ISO 8601 in UTC with microseconds, from nanoseconds (Langfuse keeps milliseconds anyway). */
function toIsoMicros(nanos: bigint): string {
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
}

interface ObservationContext {
  obs: MergedObservation;
  options: ObservationViewOptions;
}

type Getters<C> = Readonly<Record<string, (ctx: C, d: Derived<C>) => unknown>>;

const OBSERVATION_DERIVED: Getters<ObservationContext> = {
  type: ({ obs }) => obs.type.toLowerCase(),
  chat_input: ({ obs }) => (obs.type === 'GENERATION' || obs.type === 'EMBEDDING' ? toInputMessages(obs.input) : undefined),
  operation: ({ obs, options }, d) => {
    if (obs.type !== 'GENERATION' && obs.type !== 'EMBEDDING') return undefined;
    if (isEmbeddingCall(obs, options.trace)) return 'embeddings';
    return d.get('chat_input') ? 'chat' : 'text_completion';
  },
  provider_guess: ({ obs, options }) => options.inferProvider(obs.model, obs.metadata, obs.modelParameters),
  provider: (_ctx, d) => (d.get('operation') ? d.get<ProviderGuess>('provider_guess').provider : undefined),
  request_model: (_ctx, d) => d.get<ProviderGuess>('provider_guess').model,
  usage: ({ obs }) => toTokenUsage(obs),
  cost_total: ({ obs }) => toTotalCost(obs),
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
  output_messages: ({ obs }, d) => {
    const op = d.get('operation');
    if (!op || op === 'embeddings') return undefined;
    const messages = toOutputMessages(obs.output, true);
    return messages ? JSON.stringify(messages) : undefined;
  },
  // Content that is not chat messages stays JSON in langfuse.observation.input/output.
  input_json: ({ obs }, d) => (d.get('input_messages') ? undefined : toJsonText(obs.input)),
  output_json: ({ obs }, d) => (d.get('output_messages') ? undefined : toJsonText(obs.output)),
  time_to_first_chunk: ({ obs }) =>
    obs.completionStartTimeNanos !== undefined && obs.completionStartTimeNanos >= obs.startTimeNanos
      ? Number(obs.completionStartTimeNanos - obs.startTimeNanos) / NANOS_PER_SECOND
      : undefined,
  error_type: ({ obs }) => (obs.level === 'ERROR' ? toErrorType(obs.statusMessage) : undefined),
  incomplete: ({ options }) => (options.incomplete ? true : undefined),
  prompt_version: ({ obs }) => (obs.promptVersion != null ? String(obs.promptVersion) : undefined),
  model_parameters_json: ({ obs }) => (obs.modelParameters ? JSON.stringify(obs.modelParameters) : undefined),
  input_raw_json: ({ obs }) => toJsonText(obs.input),
  output_raw_json: ({ obs }) => toJsonText(obs.output),
  usage_details_json: ({ obs }) => jsonOfNonEmpty(toLangfuseUsageDetails(obs)),
  cost_details_json: ({ obs }) => jsonOfNonEmpty(toLangfuseCostDetails(obs)),
  completion_start_time: ({ obs }) => (obs.completionStartTimeNanos !== undefined ? toIsoMicros(obs.completionStartTimeNanos) : undefined),
  trace_id: ({ obs }) => obs.traceId,
};

export function observationView(obs: MergedObservation, options: ObservationViewOptions): RecordView {
  // `trace` is readable from observation rules too (trace.userId, trace.sessionId, …).
  return { obs, trace: options.trace ?? { id: obs.traceId }, derived: new Derived(OBSERVATION_DERIVED, { obs, options }) };
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
};

export function rootView(trace: MergedTrace | undefined, traceId: string, firstObservation: TopLevelSummary | undefined): RecordView {
  return { trace: trace ?? { id: traceId }, derived: new Derived(ROOT_DERIVED, { trace, traceId, firstObservation }) };
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

export function scoreView(score: MergedScore): RecordView {
  return { score, derived: new Derived(SCORE_DERIVED, score) };
}
