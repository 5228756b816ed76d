// zod v4 schemas of the Langfuse ingestion wire format (envelope + every body type), mirroring a
// Langfuse v3 server (research note §2). Owns validation rules only: no HTTP, storage or OTel here.

/*
 * Fidelity notes. The rules follow Langfuse's `packages/shared/src/server/ingestion/types.ts` as
 * described in shared/research/langfuse-ingestion.md §2: same fields, same strictness, unknown keys
 * stripped (zod's default), the same discriminated union on `type` (so an unknown type yields zod's
 * `invalid_union` / "No matching discriminator" issue), and the same field order so issue lists match.
 *
 * DELIBERATE LENIENCIES (the bridge accepts what Langfuse would reject; also exported as LENIENCIES):
 *  1. `modelParameters` on the new-style generation bodies (generation-create/update and the
 *     agent/tool/chain/retriever/evaluator/embedding/guardrail-create types) accepts ANY JSON value
 *     per key (arrays of objects such as `tools`, nested objects, numbers inside objects); Langfuse
 *     allows only string, number, boolean, string[], Record<string,string> or null and fails the
 *     whole event otherwise. The bridge can carry such values as JSON, so it keeps them.
 *  2. `metadata` (and `sdk-log.log`, legacy `input`/`output`) is checked as JSON without being
 *     rebuilt, so objects with a `constructor` key are accepted (zod's record check rejects them)
 *     and `__proto__` keys from JSON.parse stay as own data properties (zod's record drops them).
 *
 * Other differences that never show on the wire (JSON cannot carry the values involved):
 *  - `modelParameters` values of `undefined` are rejected (Langfuse's `.nullish()` accepts them).
 *  - The usage transform omits keys whose value would be `undefined` instead of keeping them.
 *  - Absent `usage` stays absent; explicit `null` stays `null` (as in Langfuse).
 *  - Legacy `observation-*` bodies get `environment: "default"` added (Langfuse's worker does the same).
 */

import { z } from 'zod';

import type { JsonValue, UsageBody } from './ingestion-event.js';
import { DEFAULT_ENVIRONMENT, normalizeEnvironment } from './environment.js';
import { langfuseDatetimeSchema } from './timestamp.js';

/** One sentence per deliberate leniency, for the README. Keep in sync with the block above. */
export const LENIENCIES: readonly string[] = [
  'modelParameters on generation-style bodies (generation-create/update, agent/tool/chain/retriever/evaluator/embedding/guardrail-create) accepts any JSON value per key (e.g. a `tools` array of objects, nested objects such as `logit_bias`), where Langfuse rejects the whole event; legacy observation-* bodies keep Langfuse\'s primitives-only rule.',
  'metadata, sdk-log `log` and legacy observation input/output are validated as JSON without being rebuilt, so objects with a `constructor` key are accepted (Langfuse\'s zod record check rejects them) and `__proto__` keys are kept as plain own data properties (Langfuse drops them).',
];

// ---------------------------------------------------------------------------------------------
// Shared building blocks (note §2.1)

export const ID_CARRIAGE_RETURN_MESSAGE = 'ID cannot contain carriage return characters';

/** Envelope id, trace/observation/score ids, observation `traceId`: 1–800 chars, no `\r`. */
export const idSchema = z
  .string()
  .min(1)
  .max(800)
  .refine((id) => !id.includes('\r'), { message: ID_CARRIAGE_RETURN_MESSAGE });

/** Langfuse's `stringDateTime` (`z.string().datetime({offset: true})`), before `.nullish()`. */
export const datetimeSchema = langfuseDatetimeSchema;

/** Objects JSON.parse can produce (prototype Object.prototype; null-prototype objects too). */
function isPlainDataObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Cycles are not JSON; they are cut off by this bound instead of looping forever. validateBatch
// rejects anything deeper than its (much smaller) depth limit before zod ever runs.
const MAX_JSON_CHECK_DEPTH = 100_000;

/**
 * True when `value` is a JSON value (nested `null` allowed): string, finite number, boolean, null,
 * array or plain object of those. Iterative, so depth cannot overflow the stack. Does not copy.
 */
export function isJsonValue(value: unknown): value is JsonValue {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop() ?? 0;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
      continue;
    }
    if (typeof v !== 'object' || depth >= MAX_JSON_CHECK_DEPTH) return false;
    if (Array.isArray(v)) {
      // Indexing (not for-of) so holes read as `undefined` and are rejected.
      for (let i = 0; i < v.length; i++) {
        values.push(v[i]);
        depths.push(depth + 1);
      }
      continue;
    }
    if (!isPlainDataObject(v)) return false;
    const record = v as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      values.push(record[key]);
      depths.push(depth + 1);
    }
  }
  return true;
}

const NOT_JSON_MESSAGE = 'Invalid input: expected a JSON value';

/**
 * Langfuse's `jsonSchema`: any JSON value except a top-level `null` (use `.nullish()` to allow it).
 * A custom check instead of a recursive zod union: the value is returned as received (no copy,
 * `__proto__` keys stay own data properties) and deep values cannot overflow the stack.
 */
export const jsonSchema = z.custom<Exclude<JsonValue, null>>(
  (value) => value !== null && isJsonValue(value),
  { message: NOT_JSON_MESSAGE },
);

/** Any JSON value including `null`; used for lenient `modelParameters` values. */
const jsonValueSchema = z.custom<JsonValue>((value) => isJsonValue(value), { message: NOT_JSON_MESSAGE });

export const levelSchema = z.enum(['DEBUG', 'DEFAULT', 'WARNING', 'ERROR']);

/**
 * `environment`: never fails (Langfuse uses `.catch`/`.default`); absent, `null`, non-strings and
 * invalid names all become `"default"`. See `normalizeEnvironment` for the v3 rule.
 */
export const environmentSchema = z.unknown().transform((value) => normalizeEnvironment(value));

/** Legacy bodies have no environment: whatever is sent is ignored and `"default"` is used. */
const legacyEnvironmentSchema = z.unknown().transform((): string => DEFAULT_ENVIRONMENT);

// ---------------------------------------------------------------------------------------------
// usage, usageDetails, costDetails (note §2.4)

export const USAGE_UNITS = ['CHARACTERS', 'TOKENS', 'SECONDS', 'MILLISECONDS', 'IMAGES', 'REQUESTS'] as const;

const mixedUsageSchema = z.object({
  input: z.number().int().nullish(),
  output: z.number().int().nullish(),
  total: z.number().int().nullish(),
  unit: z.enum(USAGE_UNITS).nullish(),
  promptTokens: z.number().int().nullish(),
  completionTokens: z.number().int().nullish(),
  totalTokens: z.number().int().nullish(),
  inputCost: z.number().nullish(),
  outputCost: z.number().nullish(),
  totalCost: z.number().nullish(),
});

/** Copies the entries whose value is not `undefined` (keys are known field names, never `__proto__`). */
function withoutUndefined(fields: UsageBody): UsageBody {
  const out: UsageBody = {};
  for (const [key, value] of Object.entries(fields) as [keyof UsageBody, unknown][]) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/**
 * Legacy `usage`: integer token counts (floats and numeric strings fail the event), float costs.
 * The OpenAI-style `promptTokens`/`completionTokens`/`totalTokens` form (any of the keys present,
 * even as null) is rewritten to `{input, output, total, unit: "TOKENS"}` and its costs are DROPPED,
 * as Langfuse does. An object with no known keys becomes `undefined`.
 */
export const usageSchema = mixedUsageSchema
  .nullish()
  .transform((value): UsageBody | null | undefined => {
    if (value === null || value === undefined) return value;
    if ('promptTokens' in value || 'completionTokens' in value || 'totalTokens' in value) {
      return withoutUndefined({
        input: value.promptTokens,
        output: value.completionTokens,
        total: value.totalTokens,
        unit: 'TOKENS',
      });
    }
    const usage = withoutUndefined(value);
    return Object.keys(usage).length === 0 ? undefined : usage;
  });

const tokenCount = z.number().int().nonnegative();
const tokenDetails = z.record(z.string(), tokenCount.nullish()).nullish();

/**
 * OpenAI usage objects → Langfuse's flat map: `{input, output, total}` plus `input_<k>`/`output_<k>`
 * per detail; each detail count is subtracted from input/output (floored at 0), because OpenAI's
 * totals include e.g. cached and reasoning tokens.
 */
function flattenOpenAiUsage(
  input: number,
  output: number,
  total: number,
  inputDetails: Record<string, number | null | undefined> | null | undefined,
  outputDetails: Record<string, number | null | undefined> | null | undefined,
): Record<string, number> {
  // zod's record parse already dropped `__proto__` keys, so plain assignment is safe here.
  const result: Record<string, number> = { input, output, total };
  let remainingInput = input;
  let remainingOutput = output;
  for (const [key, count] of Object.entries(inputDetails ?? {})) {
    if (count === null || count === undefined) continue;
    result[`input_${key}`] = count;
    remainingInput = Math.max(remainingInput - count, 0);
  }
  for (const [key, count] of Object.entries(outputDetails ?? {})) {
    if (count === null || count === undefined) continue;
    result[`output_${key}`] = count;
    remainingOutput = Math.max(remainingOutput - count, 0);
  }
  result['input'] = remainingInput;
  result['output'] = remainingOutput;
  return result;
}

const openAiCompletionUsageSchema = z
  .strictObject({
    prompt_tokens: tokenCount,
    completion_tokens: tokenCount,
    total_tokens: tokenCount,
    prompt_tokens_details: tokenDetails,
    completion_tokens_details: tokenDetails,
  })
  .transform((v) =>
    flattenOpenAiUsage(v.prompt_tokens, v.completion_tokens, v.total_tokens, v.prompt_tokens_details, v.completion_tokens_details),
  );

const openAiResponseUsageSchema = z
  .strictObject({
    input_tokens: tokenCount,
    output_tokens: tokenCount,
    total_tokens: tokenCount,
    input_tokens_details: tokenDetails,
    output_tokens_details: tokenDetails,
  })
  .transform((v) =>
    flattenOpenAiUsage(v.input_tokens, v.output_tokens, v.total_tokens, v.input_tokens_details, v.output_tokens_details),
  );

/**
 * Any other object: keep non-negative integers; `parseInt` strings and keep non-negative results
 * (`"12"` → 12, `"1.9"` → 1); silently drop everything else. Empty → `undefined`.
 */
const rawUsageDetailsSchema = z.record(z.string(), z.unknown()).transform((record) => {
  const result: Record<string, number> = {};
  let kept = 0;
  for (const [key, value] of Object.entries(record)) {
    let count: number | undefined;
    if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= 0) count = value;
    } else if (typeof value === 'string') {
      const parsed = Number.parseInt(value, 10);
      if (!Number.isNaN(parsed) && parsed >= 0) count = parsed;
    }
    if (count === undefined) continue;
    result[key] = count === 0 ? 0 : count; // normalizes -0
    kept++;
  }
  return kept === 0 ? undefined : result;
});

/**
 * Langfuse's `UsageDetails` union: the first of OpenAI completion, OpenAI response, raw map that
 * matches. Exported so tests can check `usageDetailsSchema` against it.
 */
export const usageDetailsUnion = z.union([openAiCompletionUsageSchema, openAiResponseUsageSchema, rawUsageDetailsSchema]);

/**
 * `usageDetails` (nullish): exactly `usageDetailsUnion`'s result and issues, with a fast path.
 * Failed union branches are costly in zod (~10 µs, most of a LiteLLM event's validation), and the
 * OpenAI branches can only match when their required `prompt_tokens` / `input_tokens` key exists;
 * without those keys the raw branch alone decides, which gives the same result. Anything the raw
 * branch refuses (arrays, numbers, …) goes through the full union for Langfuse's exact issue list.
 */
export const usageDetailsSchema = z.unknown().transform((value, ctx): Record<string, number> | null | undefined => {
  if (value === null || value === undefined) return value;
  if (typeof value === 'object' && !('prompt_tokens' in value) && !('input_tokens' in value)) {
    const raw = rawUsageDetailsSchema.safeParse(value);
    if (raw.success) return raw.data;
  }
  const full = usageDetailsUnion.safeParse(value);
  if (full.success) return full.data;
  // zod v4's documented way for a transform to fail: push issues (paths are relative, the
  // enclosing object prefixes them as usual) and return NEVER.
  for (const issue of full.error.issues) ctx.issues.push({ ...issue, input: value } as (typeof ctx.issues)[number]);
  return z.NEVER;
});

/** `costDetails`: keep finite numbers ≥ 0 (floats fine), silently drop the rest; empty → `undefined`. */
export const costDetailsSchema = z
  .record(z.string(), z.unknown())
  .transform((record) => {
    const result: Record<string, number> = {};
    let kept = 0;
    for (const [key, value] of Object.entries(record)) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) continue;
      result[key] = value === 0 ? 0 : value;
      kept++;
    }
    return kept === 0 ? undefined : result;
  })
  .nullish();

// ---------------------------------------------------------------------------------------------
// Bodies (note §2.3)

export const traceBodySchema = z.object({
  id: idSchema.nullish(),
  timestamp: datetimeSchema.nullish(),
  name: z.string().max(1000).nullish(),
  externalId: z.string().nullish(),
  input: z.unknown(),
  output: z.unknown(),
  sessionId: z.string().nullish(),
  userId: z.string().nullish(),
  environment: environmentSchema,
  metadata: jsonSchema.nullish(),
  release: z.string().nullish(),
  version: z.string().nullish(),
  public: z.boolean().nullish(),
  tags: z.array(z.string()).nullish(),
});

/** `OptionalObservationBody`: the fields every new-style observation body shares. */
const observationBaseShape = {
  traceId: idSchema.nullish(),
  environment: environmentSchema,
  name: z.string().nullish(),
  startTime: datetimeSchema.nullish(),
  metadata: jsonSchema.nullish(),
  input: z.unknown(),
  output: z.unknown(),
  level: levelSchema.nullish(),
  statusMessage: z.string().nullish(),
  parentObservationId: z.string().nullish(),
  version: z.string().nullish(),
};

/** `event-create`: `id` required; no `endTime` (stripped if sent). */
export const eventBodySchema = z.object({ ...observationBaseShape, id: idSchema });

/** `span-create` / `span-update`: adds `endTime`; generation fields are stripped. */
export const spanBodySchema = z.object({ ...observationBaseShape, id: idSchema, endTime: datetimeSchema.nullish() });

/** LENIENCY 1: any JSON per key (Langfuse: string | number | boolean | string[] | Record<string,string> | null). */
const lenientModelParametersSchema = z.record(z.string(), jsonValueSchema).nullish();

/** Legacy bodies keep Langfuse's rule: primitives or null only. */
const legacyModelParametersSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).nullable())
  .nullish();

/**
 * generation-create/update and agent/tool/chain/retriever/evaluator/embedding/guardrail-create
 * (Langfuse reuses `CreateGenerationBody` for all of them). `promptName` and `promptVersion` must
 * be both truthy or both falsy (`promptVersion: 0` counts as missing); the failing refine has no
 * message in Langfuse, so zod's "Invalid input" is reported, as there.
 */
export const generationBodySchema = z
  .object({
    ...observationBaseShape,
    id: idSchema,
    endTime: datetimeSchema.nullish(),
    completionStartTime: datetimeSchema.nullish(),
    model: z.string().nullish(),
    modelParameters: lenientModelParametersSchema,
    usage: usageSchema,
    usageDetails: usageDetailsSchema,
    costDetails: costDetailsSchema,
    promptName: z.string().nullish(),
    promptVersion: z.number().int().nullish(),
  })
  .refine((body) => Boolean(body.promptName) === Boolean(body.promptVersion));

/** Legacy `observation-create` / `observation-update`: `type` required, no environment, no prompt. */
export const legacyObservationBodySchema = z.object({
  id: idSchema.nullish(),
  traceId: idSchema.nullish(),
  type: z.enum(['GENERATION', 'SPAN', 'EVENT']),
  name: z.string().nullish(),
  startTime: datetimeSchema.nullish(),
  endTime: datetimeSchema.nullish(),
  completionStartTime: datetimeSchema.nullish(),
  model: z.string().nullish(),
  modelParameters: legacyModelParametersSchema,
  input: jsonSchema.nullish(),
  output: jsonSchema.nullish(),
  usage: usageSchema,
  usageDetails: usageDetailsSchema,
  costDetails: costDetailsSchema,
  metadata: jsonSchema.nullish(),
  parentObservationId: z.string().nullish(),
  level: levelSchema.nullish(),
  statusMessage: z.string().nullish(),
  version: z.string().nullish(),
  // Not in Langfuse's schema (anything sent is ignored); added so every ObservationBody has one.
  environment: legacyEnvironmentSchema,
});

export const SCORE_TARGET_MESSAGE =
  'Provide exactly one of the following: traceId (with optional observationId), sessionId or datasetRunId. ObservationId requires traceId.';

export const BOOLEAN_SCORE_MESSAGE = 'Value must be a number equal to either 0 or 1 for data type BOOLEAN';

const scoreBaseShape = {
  id: idSchema.nullish(),
  name: z.string().min(1),
  traceId: z.string().nullish(),
  sessionId: z.string().nullish(),
  datasetRunId: z.string().nullish(),
  environment: environmentSchema,
  observationId: z.string().nullish(),
  comment: z.string().nullish(),
  metadata: jsonSchema.nullish(),
  source: z.enum(['API', 'EVAL', 'ANNOTATION']).default('API'),
  executionTraceId: z.string().nullish(),
  queueId: z.string().nullish(),
};

const configId = z.string().nullish();

/**
 * `score-create`: discriminated on `dataType` (absent is its own branch: string or number value,
 * left absent here; the worker reads a number as NUMERIC and a string as CATEGORICAL; `null`
 * matches no branch), then exactly one of traceId / sessionId / datasetRunId.
 */
export const scoreBodySchema = z
  .discriminatedUnion('dataType', [
    z.object({ ...scoreBaseShape, value: z.number(), dataType: z.literal('NUMERIC'), configId }),
    z.object({ ...scoreBaseShape, value: z.string(), dataType: z.literal('CATEGORICAL'), configId }),
    z.object({
      ...scoreBaseShape,
      value: z.number().refine((v) => v === 0 || v === 1, { message: BOOLEAN_SCORE_MESSAGE }),
      dataType: z.literal('BOOLEAN'),
      configId,
    }),
    // A correction carries no config: `configId` must be absent or null.
    z.object({ ...scoreBaseShape, value: z.string(), dataType: z.literal('CORRECTION'), configId: z.undefined().nullish() }),
    z.object({ ...scoreBaseShape, value: z.string().min(1).max(500), dataType: z.literal('TEXT'), configId }),
    z.object({ ...scoreBaseShape, value: z.union([z.string(), z.number()]), dataType: z.undefined(), configId }),
  ])
  .refine(
    (score) => {
      const hasTrace = Boolean(score.traceId);
      const hasSession = Boolean(score.sessionId);
      const hasRun = Boolean(score.datasetRunId);
      const hasObservation = Boolean(score.observationId);
      return (
        (hasTrace && !hasSession && !hasRun) ||
        (hasSession && !hasTrace && !hasRun && !hasObservation) ||
        (hasRun && !hasTrace && !hasSession && !hasObservation)
      );
    },
    { message: SCORE_TARGET_MESSAGE, path: ['traceId', 'sessionId', 'datasetRunId', 'observationId'] },
  );

/** `sdk-log`: validated, then counted and dropped (never forwarded). */
export const sdkLogBodySchema = z.object({ log: jsonSchema, id: z.string().nullish() });

export const DATASET_RUN_ITEM_MESSAGE = 'Dataset run item creation is only allowed for internal usage';

// ---------------------------------------------------------------------------------------------
// Envelope and the event union (note §2.2)

// Shape order (id, timestamp, metadata, type, body) matches Langfuse, so issue lists come out alike.
const envelopeShape = {
  id: idSchema,
  timestamp: datetimeSchema,
  metadata: jsonSchema.nullish(),
};

function envelope<const T extends string, B extends z.ZodType>(type: T, body: B) {
  return z.object({ ...envelopeShape, type: z.literal(type), body });
}

/** Types whose body is `CreateGenerationBody` in Langfuse. */
export const GENERATION_STYLE_TYPES = [
  'generation-create',
  'generation-update',
  'agent-create',
  'tool-create',
  'chain-create',
  'retriever-create',
  'evaluator-create',
  'embedding-create',
  'guardrail-create',
] as const;

export const traceEventSchema = envelope('trace-create', traceBodySchema);
export const scoreEventSchema = envelope('score-create', scoreBodySchema);
export const eventCreateEventSchema = envelope('event-create', eventBodySchema);
export const spanCreateEventSchema = envelope('span-create', spanBodySchema);
export const spanUpdateEventSchema = envelope('span-update', spanBodySchema);
export const generationStyleEventSchema = z.object({
  ...envelopeShape,
  type: z.literal(GENERATION_STYLE_TYPES),
  body: generationBodySchema,
});
export const sdkLogEventSchema = envelope('sdk-log', sdkLogBodySchema);
/** Public servers always refuse it; the body is not inspected. */
export const datasetRunItemEventSchema = envelope('dataset-run-item-create', z.unknown()).refine(() => false, {
  message: DATASET_RUN_ITEM_MESSAGE,
});
export const legacyObservationEventSchema = z.object({
  ...envelopeShape,
  type: z.literal(['observation-create', 'observation-update']),
  body: legacyObservationBodySchema,
});

/** One ingestion event: discriminated on `type`; unknown types fail with "No matching discriminator". */
export const ingestionEventSchema = z.discriminatedUnion('type', [
  traceEventSchema,
  scoreEventSchema,
  eventCreateEventSchema,
  spanCreateEventSchema,
  spanUpdateEventSchema,
  generationStyleEventSchema,
  sdkLogEventSchema,
  datasetRunItemEventSchema,
  legacyObservationEventSchema,
]);

export type ParsedIngestionEvent = z.output<typeof ingestionEventSchema>;
