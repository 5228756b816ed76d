// Estimates the cost of a generation from its token usage when the client sent none, as Langfuse
// does from its model table. Prices come from the maintained @pydantic/genai-prices data bundled
// in the package (no network). Pure; owns only the provider-name translation.
import { createRequire } from 'node:module';
import type * as GenAiPrices from '@pydantic/genai-prices';
import type { TokenUsage } from './token-usage.js';

// The price table costs ~14 MB of RSS: loaded (synchronously, its CommonJS build) on the first
// estimate, so BRIDGE_ESTIMATE_COST=false or clients that always send costs never pay for it.
let prices: typeof GenAiPrices | undefined;
const loadPrices = (): typeof GenAiPrices => (prices ??= createRequire(import.meta.url)('@pydantic/genai-prices') as typeof GenAiPrices);

/** gen_ai.provider.name values → genai-prices provider ids (where they differ or exist). */
const PRICE_PROVIDER_IDS: Readonly<Record<string, string>> = {
  openai: 'openai',
  anthropic: 'anthropic',
  'aws.bedrock': 'aws',
  'azure.ai.openai': 'azure',
  'gcp.vertex_ai': 'google',
  'gcp.gemini': 'google',
  'gcp.gen_ai': 'google',
  mistral_ai: 'mistral',
  x_ai: 'x-ai',
  deepseek: 'deepseek',
  groq: 'groq',
  cohere: 'cohere',
  perplexity: 'perplexity',
  together_ai: 'together',
  fireworks_ai: 'fireworks',
  openrouter: 'openrouter',
  cerebras: 'cerebras',
  moonshot_ai: 'moonshotai',
};

export interface CostEstimateInput {
  /** The model name without routing prefix (`gpt-4o`, `anthropic.claude-3-haiku-…`). */
  model: string | undefined;
  /** gen_ai.provider.name, when known. */
  provider: string | undefined;
  usage: TokenUsage;
  /** When the call happened: prices change over time. */
  at: Date;
}

/** USD, or undefined when the model is unknown or there is nothing to price. */
export function estimateCostUsd(input: CostEstimateInput): number | undefined {
  const { model, usage } = input;
  if (!model || (usage.input_tokens === undefined && usage.output_tokens === undefined)) return undefined;
  // genai-prices counts input inclusive of cache reads and writes, as GenAI does (TokenUsage).
  const priced = {
    input_tokens: usage.input_tokens ?? 0,
    output_tokens: usage.output_tokens ?? 0,
    ...(usage.cache_read_input_tokens !== undefined ? { cache_read_tokens: usage.cache_read_input_tokens } : {}),
    ...(usage.cache_write_input_tokens !== undefined ? { cache_write_tokens: usage.cache_write_input_tokens } : {}),
  };
  const providerId = input.provider ? PRICE_PROVIDER_IDS[input.provider] : undefined;
  try {
    const { calcPrice } = loadPrices();
    const result =
      (providerId ? calcPrice(priced, model, { providerId, timestamp: input.at }) : null) ?? calcPrice(priced, model, { timestamp: input.at });
    return result && Number.isFinite(result.total_price) ? result.total_price : undefined;
  } catch {
    // An unexpected price-table shape must never fail a span.
    return undefined;
  }
}
