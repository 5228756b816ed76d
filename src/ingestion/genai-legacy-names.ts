// Legacy OpenTelemetry GenAI attribute names → their current names, for spans that pass through
// unchanged otherwise. Data from the semantic-conventions history (gen-ai registry, v1.26 → v1.38).
// Pure; no HTTP, no OTel types.

/** Old name → current name. The value is kept; a current name already present wins. */
export const GENAI_RENAMES: Readonly<Record<string, string>> = Object.freeze({
  'gen_ai.system': 'gen_ai.provider.name',
  'gen_ai.usage.prompt_tokens': 'gen_ai.usage.input_tokens',
  'gen_ai.usage.completion_tokens': 'gen_ai.usage.output_tokens',
  'gen_ai.openai.request.seed': 'gen_ai.request.seed',
  'gen_ai.openai.request.response_format': 'gen_ai.output.type',
  'gen_ai.openai.request.service_tier': 'openai.request.service_tier',
  'gen_ai.openai.response.service_tier': 'openai.response.service_tier',
  'gen_ai.openai.response.system_fingerprint': 'openai.response.system_fingerprint',
  'gen_ai.usage.cache_read_input_tokens': 'gen_ai.usage.cache_read.input_tokens',
  'gen_ai.usage.cache_creation_input_tokens': 'gen_ai.usage.cache_creation.input_tokens',
});

/** `gen_ai.system` values that `gen_ai.provider.name` spells differently. */
export const GENAI_PROVIDER_RENAMES: Readonly<Record<string, string>> = Object.freeze({
  'az.ai.inference': 'azure.ai.inference',
  'az.ai.openai': 'azure.ai.openai',
  vertex_ai: 'gcp.vertex_ai',
  gemini: 'gcp.gemini',
});

/** A copy of `attributes` with legacy names replaced by current ones. */
export function normalizeGenAiNames<V>(attributes: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const renamed = GENAI_RENAMES[key];
    if (renamed === undefined) {
      out[key] = value;
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(attributes, renamed)) continue;
    out[renamed] = key === 'gen_ai.system' && typeof value === 'string' ? ((GENAI_PROVIDER_RENAMES[value] ?? value) as V) : value;
  }
  return out;
}
