// The schema of one mapping file (mappings/*.yaml): strict, every key documented in mappings/README.md.
// Knows YAML's vocabulary only; compiling to functions happens in compile-mapping.ts.
import { z } from 'zod';

export const SPAN_KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
export const VALUE_TYPES = ['string', 'int', 'double', 'bool', 'string[]', 'json'] as const;

/** A dotted path into the record view: `obs.modelParameters.temperature`, `derived.provider`, `trace.name`. */
const path = z.string().regex(/^[A-Za-z_$][\w$]*(\.[\w$-]+)*$/, 'a dotted path such as obs.model or derived.usage.input_tokens');

const attributeRule = z.union([
  path,
  z.strictObject({
    /** Where the value comes from (a path); or `value` for a constant. */
    from: path.optional(),
    value: z.union([z.string(), z.number(), z.boolean()]).optional(),
    /** Coerce to this type; a value that cannot be coerced is left out. Default: keep primitives, JSON-encode the rest. */
    type: z.enum(VALUE_TYPES).optional(),
    /** An object becomes one attribute per top-level key: `<name>.<key>`. */
    flatten: z.boolean().optional(),
    /** Prompt/completion content: dropped when BRIDGE_CAPTURE_CONTENT=false. */
    content: z.boolean().optional(),
    /** Values that are left out (e.g. the default level). */
    skip_values: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
    /** Translates string values (`aws.bedrock: aws`); values not listed pass as they are. */
    map: z.record(z.string(), z.string()).optional(),
  }),
  // `null` in a file that `extends` another drops the inherited rule.
  z.null(),
]);

const spanRule = z.strictObject({
  kind: z.enum(SPAN_KINDS).optional(),
  /** Name templates tried in order; the first whose `{path}` placeholders all have a value wins. */
  name: z.array(z.string().min(1)).min(1).optional(),
  attributes: z.record(z.string().min(1), attributeRule).optional(),
  status: z
    .strictObject({
      /** Status ERROR when the value at `from` equals `equals`. */
      error_when: z.strictObject({ from: path, equals: z.union([z.string(), z.number(), z.boolean()]) }),
      message: path.optional(),
    })
    .optional(),
});

const OBSERVATION_TYPE_KEYS = ['span', 'generation', 'event', 'agent', 'tool', 'chain', 'retriever', 'evaluator', 'embedding', 'guardrail'] as const;

export const mappingFileSchema = z.strictObject({
  version: z.literal(1, 'the number 1'),
  description: z.string().optional(),
  /** A preset name (`genai`) or a path relative to this file. */
  extends: z.string().min(1).optional(),
  providers: z
    .strictObject({
      /** `bedrock/…`-style model prefixes → gen_ai.provider.name. */
      model_prefixes: z.record(z.string(), z.string()).optional(),
      /** Generation metadata keys whose presence names the provider (LiteLLM's `vertex_location`, …). */
      metadata_keys: z.record(z.string(), z.string()).optional(),
      /** LiteLLM metadata values naming the provider (`custom_llm_provider` …): value → provider. */
      metadata_values: z.record(z.string(), z.string()).optional(),
      /** Host name suffixes of `api_base` → provider. */
      api_base_hosts: z.record(z.string(), z.string()).optional(),
      /** Regular expressions over the model name (without prefix) → provider, tried in order. */
      model_families: z.array(z.strictObject({ match: z.string().min(1), provider: z.string().min(1) })).optional(),
    })
    .optional(),
  spans: z
    .strictObject({
      root: spanRule.optional(),
      /** Applied to every observation before the rules of its type. */
      observation: spanRule.optional(),
      types: z.partialRecord(z.enum(OBSERVATION_TYPE_KEYS), spanRule).optional(),
      score: spanRule.optional(),
    })
    .optional(),
});

export type MappingFile = z.infer<typeof mappingFileSchema>;
export type SpanRuleConfig = z.infer<typeof spanRule>;
export type AttributeRuleConfig = z.infer<typeof attributeRule>;
export type ObservationTypeKey = (typeof OBSERVATION_TYPE_KEYS)[number];
export { OBSERVATION_TYPE_KEYS };
