import { describe, expect, it } from 'vitest';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { loadMapping } from '../../../src/mapping/load-mapping.js';
import { compileProviderInference } from '../../../src/mapping/provider-inference.js';

const infer = compileMapping(loadMapping('genai'), { captureContent: true }).inferProvider;

describe('provider inference with the genai tables', () => {
  it.each([
    ['bedrock/anthropic.claude-3-haiku', {}, {}, 'aws.bedrock', 'anthropic.claude-3-haiku'],
    ['azure/my-deployment', {}, {}, 'azure.ai.openai', 'my-deployment'],
    ['vertex_ai/gemini-1.5-pro', {}, {}, 'gcp.vertex_ai', 'gemini-1.5-pro'],
    ['gemini/gemini-2.0-flash', {}, {}, 'gcp.gemini', 'gemini-2.0-flash'],
    ['my-deployment', { api_base: 'https://contoso.openai.azure.com/' }, {}, 'azure.ai.openai', 'my-deployment'],
    ['claude-3-5-sonnet', { hidden_params: { api_base: 'https://api.anthropic.com/v1' } }, {}, 'anthropic', 'claude-3-5-sonnet'],
    ['gemini-1.5-pro', { vertex_location: 'us-central1' }, {}, 'gcp.vertex_ai', 'gemini-1.5-pro'],
    ['anthropic.claude-v2', {}, { aws_region: 'us-east-1' }, 'aws.bedrock', 'anthropic.claude-v2'],
    ['custom-model', { model_info: { litellm_provider: 'groq' } }, {}, 'groq', 'custom-model'],
    ['gpt-4o-mini', {}, {}, 'openai', 'gpt-4o-mini'],
    ['o3-mini', {}, {}, 'openai', 'o3-mini'],
    ['claude-opus-4', {}, {}, 'anthropic', 'claude-opus-4'],
    ['mistral-large-latest', {}, {}, 'mistral_ai', 'mistral-large-latest'],
    ['gemini-2.0-flash-001', {}, {}, 'gcp.gen_ai', 'gemini-2.0-flash-001'],
    ['gemini-2.0-flash-001', { hidden_params: { litellm_model_name: 'vertex_ai/gemini-2.0-flash-001' } }, {}, 'gcp.vertex_ai', 'gemini-2.0-flash-001'],
    ['some/unknown-model', {}, {}, undefined, 'some/unknown-model'],
  ])('%s with %j → %s', (model, metadata, params, provider, bare) => {
    expect(infer(model, metadata, params)).toEqual({ ...(provider ? { provider } : {}), model: bare });
  });
});

describe('provider inference with a mapping value that names no provider (empty)', () => {
  const inferWith = compileProviderInference({
    metadata_values: { unnamed: '', groq: 'groq' },
    metadata_keys: { vertex_location: 'gcp.vertex_ai' },
    api_base_hosts: { 'api.openai.com': 'openai' },
  });

  it('goes on to the next candidate, the metadata keys and the endpoint', () => {
    expect(inferWith('m', { custom_llm_provider: 'unnamed', hidden_params: { custom_llm_provider: 'groq' } }, {})).toEqual({ provider: 'groq', model: 'm' });
    expect(inferWith('m', { custom_llm_provider: 'unnamed', vertex_location: 'eu' }, {})).toEqual({ provider: 'gcp.vertex_ai', model: 'm' });
    expect(inferWith('m', { custom_llm_provider: 'unnamed', api_base: 'https://api.openai.com/v1' }, {})).toEqual({ provider: 'openai', model: 'm' });
    expect(inferWith(undefined, { custom_llm_provider: 'unnamed' }, undefined)).toEqual({});
  });
});
