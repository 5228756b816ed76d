// Infers `gen_ai.provider.name` from what a Langfuse generation carries: a LiteLLM model prefix
// (`bedrock/…`), LiteLLM metadata, the `api_base` host, or the model family. The tables are data
// from the mapping file; this module only knows the order in which they are consulted.
import type { ResolvedMapping } from './load-mapping.js';

export interface ProviderGuess {
  provider?: string;
  /** The model name without a recognised routing prefix (`bedrock/x` → `x`). */
  model?: string;
}

export type ProviderInference = (model: string | undefined, metadata: unknown, modelParameters: unknown) => ProviderGuess;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function compileProviderInference(tables: ResolvedMapping['providers']): ProviderInference {
  const prefixes = new Map(Object.entries(tables?.model_prefixes ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const metadataKeys = Object.entries(tables?.metadata_keys ?? {});
  const metadataValues = new Map(Object.entries(tables?.metadata_values ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const hosts = Object.entries(tables?.api_base_hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const);
  const families = (tables?.model_families ?? []).map((f) => ({ re: new RegExp(f.match, 'i'), provider: f.provider }));

  // A client sends the same few endpoints over and over: parsing a URL costs more than the rest
  // of the inference, so each endpoint's answer is kept (a bounded table, cleared when full).
  const byApiBase = new Map<string, string | undefined>();
  const fromHost = (apiBase: unknown): string | undefined => {
    if (typeof apiBase !== 'string' || apiBase === '') return undefined;
    if (byApiBase.has(apiBase)) return byApiBase.get(apiBase);
    if (byApiBase.size >= 256) byApiBase.clear();
    const provider = parseHost(apiBase);
    byApiBase.set(apiBase, provider);
    return provider;
  };
  const parseHost = (apiBase: string): string | undefined => {
    let host: string;
    try {
      host = new URL(apiBase.includes('://') ? apiBase : `https://${apiBase}`).hostname.toLowerCase();
    } catch {
      return undefined;
    }
    return hosts.find(([suffix]) => host === suffix || host.endsWith(`.${suffix}`) || host.endsWith(suffix))?.[1];
  };

  const fromPrefix = (name: unknown): { provider: string; bare: string } | undefined => {
    const slash = typeof name === 'string' ? name.indexOf('/') : -1;
    if (typeof name !== 'string' || slash <= 0) return undefined;
    const known = prefixes.get(name.slice(0, slash).toLowerCase());
    return known ? { provider: known, bare: name.slice(slash + 1) } : undefined;
  };

  // Called twice per generation, so it makes no object for absent metadata (NO_FIELDS), no
  // candidate list and no spread result. The value a string candidate names (possibly none); a
  // candidate that is no string leaves the value found before.
  const fromMetadataValue = (candidate: unknown, before: string | undefined): string | undefined =>
    typeof candidate === 'string' ? metadataValues.get(candidate.toLowerCase()) : before;

  return (model, metadata, modelParameters) => {
    let bare = model;
    let provider: string | undefined;
    const meta = isObj(metadata) ? metadata : NO_FIELDS;
    const hidden = isObj(meta.hidden_params) ? meta.hidden_params : NO_FIELDS;
    // 1. LiteLLM routing prefix: the first path segment names the provider; else the prefix of
    //    the model LiteLLM says it called (Vertex logs the bare model, `vertex_ai/…` there).
    const routed = fromPrefix(model);
    if (routed) {
      provider = routed.provider;
      bare = routed.bare;
    } else provider = fromPrefix(hidden.litellm_model_name)?.provider;
    // 2. LiteLLM metadata: an explicit provider value, then keys only one provider sets.
    if (!provider) {
      const modelInfo = isObj(meta.model_info) ? meta.model_info : NO_FIELDS;
      provider = fromMetadataValue(meta.custom_llm_provider, provider);
      if (!provider) provider = fromMetadataValue(hidden.custom_llm_provider, provider);
      if (!provider) provider = fromMetadataValue(modelInfo.litellm_provider, provider);
      if (!provider) provider = fromMetadataValue(meta.litellm_provider, provider);
    }
    if (!provider) {
      const params = isObj(modelParameters) ? modelParameters : NO_FIELDS;
      provider = undefined;
      for (const [key, keyProvider] of metadataKeys) {
        if (meta[key] != null || params[key] != null) {
          provider = keyProvider;
          break;
        }
      }
    }
    // 3. The endpoint called.
    provider ??= fromHost(meta.api_base) ?? fromHost(hidden.api_base);
    // 4. The model family.
    if (!provider && bare) provider = families.find((f) => f.re.test(bare!))?.provider;
    const guess: ProviderGuess = {};
    if (provider) guess.provider = provider;
    if (bare) guess.model = bare;
    return guess;
  };
}

/** Absent metadata, read as an object without fields. */
const NO_FIELDS: Readonly<Obj> = Object.freeze({});
