// The view a mapping file's paths read from: the merged Langfuse record (`obs`, `trace`, `score`)
// plus `derived` values computed here (operation, provider, token arithmetic, messages, …).
// Derived values are computed lazily, once, and only when a rule asks for them.
import type { MergedObservation, MergedScore, MergedTrace } from '../assembly/merge.js';
import { toInputMessages, toOutputMessages, type ConvertedInput } from './messages.js';
import type { ProviderGuess, ProviderInference } from './provider-inference.js';

export type RecordView = Record<string, unknown>;

const NANOS_PER_SECOND = 1_000_000_000;

/** Attaches memoised getters: a value is computed the first time a path reaches it. */
function lazy<T extends Record<string, () => unknown>>(getters: T): { [K in keyof T]: ReturnType<T[K]> } {
  const out = {} as Record<string, unknown>;
  for (const [key, get] of Object.entries(getters)) {
    Object.defineProperty(out, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = get();
        Object.defineProperty(out, key, { value, enumerable: true });
        return value;
      },
    });
  }
  return out as { [K in keyof T]: ReturnType<T[K]> };
}

/** JSON text for an attribute: strings stay as they are, everything else is JSON-encoded. */
export function toJsonText(value: unknown): string | undefined {
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
export function toLangfuseUsageDetails(obs: Pick<MergedObservation, 'usage' | 'usageDetails'>): Record<string, number> {
  const out: Record<string, number> = {};
  if (obs.usage?.input != null) out.input = obs.usage.input;
  if (obs.usage?.output != null) out.output = obs.usage.output;
  if (obs.usage?.total != null) out.total = obs.usage.total;
  return Object.assign(out, obs.usageDetails ?? {});
}

/** Langfuse's own cost map: `usage` costs first, `costDetails` spread over it. */
export function toLangfuseCostDetails(obs: Pick<MergedObservation, 'usage' | 'costDetails'>): Record<string, number> {
  const out: Record<string, number> = {};
  if (obs.usage?.inputCost != null) out.input = obs.usage.inputCost;
  if (obs.usage?.outputCost != null) out.output = obs.usage.outputCost;
  if (obs.usage?.totalCost != null) out.total = obs.usage.totalCost;
  return Object.assign(out, obs.costDetails ?? {});
}

function jsonOfNonEmpty(value: Record<string, number>): string | undefined {
  return Object.keys(value).length > 0 ? JSON.stringify(value) : undefined;
}

/** ISO 8601 in UTC with microseconds, from nanoseconds (Langfuse keeps milliseconds anyway). */
export function toIsoMicros(nanos: bigint): string {
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

function isEmbeddingCall(obs: MergedObservation, traceName: string | undefined): boolean {
  if (obs.type === 'EMBEDDING') return true;
  const names = [obs.name, traceName].filter((n): n is string => typeof n === 'string');
  return names.some((n) => /(^|[-_:\s])a?embeddings?($|[-_:\s])/i.test(n));
}

export interface ObservationViewOptions {
  inferProvider: ProviderInference;
  /** Name of the trace, when known (LiteLLM names embedding calls `litellm-aembedding`). */
  traceName?: string;
  incomplete: boolean;
}

interface ObservationDerived {
  type: string;
  chat_input: ConvertedInput | undefined;
  operation: string | undefined;
  provider_guess: ProviderGuess;
  provider: string | undefined;
  request_model: string | undefined;
  usage: TokenUsage;
  cost_total: number | undefined;
  input_messages: string | undefined;
  system_instructions: string | undefined;
  tool_definitions: string | undefined;
  output_messages: string | undefined;
  input_json: string | undefined;
  output_json: string | undefined;
  time_to_first_chunk: number | undefined;
  error_type: string | undefined;
  incomplete: true | undefined;
  prompt_version: string | undefined;
  model_parameters_json: string | undefined;
  input_raw_json: string | undefined;
  output_raw_json: string | undefined;
  usage_details_json: string | undefined;
  cost_details_json: string | undefined;
  completion_start_time: string | undefined;
  trace_id: string;
}

export function observationView(obs: MergedObservation, options: ObservationViewOptions): RecordView {
  const derived: ObservationDerived = lazy({
    type: () => obs.type.toLowerCase(),
    chat_input: () => (obs.type === 'GENERATION' || obs.type === 'EMBEDDING' ? toInputMessages(obs.input) : undefined),
    operation: () => {
      if (obs.type !== 'GENERATION' && obs.type !== 'EMBEDDING') return undefined;
      if (isEmbeddingCall(obs, options.traceName)) return 'embeddings';
      return derived.chat_input ? 'chat' : 'text_completion';
    },
    provider_guess: () => options.inferProvider(obs.model, obs.metadata, obs.modelParameters),
    provider: () => (derived.operation ? derived.provider_guess.provider : undefined),
    request_model: () => derived.provider_guess.model,
    usage: () => toTokenUsage(obs),
    cost_total: () => toTotalCost(obs),
    // Embedding inputs are not a conversation: they stay JSON in langfuse.observation.input.
    input_messages: () =>
      derived.chat_input && derived.operation !== 'embeddings' ? JSON.stringify(derived.chat_input.messages) : undefined,
    system_instructions: () => (derived.chat_input?.systemInstructions ? JSON.stringify(derived.chat_input.systemInstructions) : undefined),
    tool_definitions: () => (derived.chat_input?.toolDefinitions ? JSON.stringify(derived.chat_input.toolDefinitions) : undefined),
    output_messages: () => {
      const op = derived.operation;
      if (!op || op === 'embeddings') return undefined;
      const messages = toOutputMessages(obs.output, true);
      return messages ? JSON.stringify(messages) : undefined;
    },
    /** Content that is not chat messages stays JSON in langfuse.observation.input/output. */
    input_json: () => (derived.input_messages ? undefined : toJsonText(obs.input)),
    output_json: () => (derived.output_messages ? undefined : toJsonText(obs.output)),
    time_to_first_chunk: () =>
      obs.completionStartTimeNanos !== undefined && obs.completionStartTimeNanos >= obs.startTimeNanos
        ? Number(obs.completionStartTimeNanos - obs.startTimeNanos) / NANOS_PER_SECOND
        : undefined,
    error_type: () => (obs.level === 'ERROR' ? toErrorType(obs.statusMessage) : undefined),
    incomplete: () => (options.incomplete ? (true as const) : undefined),
    prompt_version: () => (obs.promptVersion != null ? String(obs.promptVersion) : undefined),
    model_parameters_json: () => (obs.modelParameters ? JSON.stringify(obs.modelParameters) : undefined),
    input_raw_json: () => toJsonText(obs.input),
    output_raw_json: () => toJsonText(obs.output),
    usage_details_json: () => jsonOfNonEmpty(toLangfuseUsageDetails(obs)),
    cost_details_json: () => jsonOfNonEmpty(toLangfuseCostDetails(obs)),
    completion_start_time: () => (obs.completionStartTimeNanos !== undefined ? toIsoMicros(obs.completionStartTimeNanos) : undefined),
    trace_id: () => obs.traceId,
  });
  return { obs, derived };
}

export function rootView(trace: MergedTrace | undefined, traceId: string, firstObservation: MergedObservation | undefined): RecordView {
  const derived = lazy({
    trace_id: () => traceId,
    first_observation_name: () => firstObservation?.name,
    input_json: () => toJsonText(trace?.input),
    output_json: () => toJsonText(trace?.output),
    tags: () => (trace && trace.tags.length > 0 ? trace.tags : undefined),
    public: () => (trace?.public ? true : undefined),
    synthetic: () => (trace ? undefined : true),
  });
  return { trace: trace ?? { id: traceId }, derived };
}

export function scoreView(score: MergedScore): RecordView {
  const derived = lazy({
    value_number: () => (typeof score.value === 'number' ? score.value : undefined),
    value_label: () => {
      if (typeof score.value === 'string') return score.value;
      if (score.dataType === 'BOOLEAN') return score.value === 1 ? 'true' : 'false';
      return undefined;
    },
    metadata_json: () => toJsonText(score.metadata),
  });
  return { score, derived };
}
