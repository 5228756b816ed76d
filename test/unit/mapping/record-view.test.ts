import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toErrorType, toIsoMicros, toIsoMicrosExact, toTokenUsage, toTotalCost } from '../../../src/mapping/record-view.js';

describe('toTokenUsage', () => {
  it.each([
    ['legacy usage only', { usage: { input: 10, output: 20 } }, { input_tokens: 10, output_tokens: 20 }],
    [
      'LiteLLM usageDetails with cache buckets',
      { usageDetails: { input: 10, output: 20, total: 30, cache_read_input_tokens: 5, cache_creation_input_tokens: 3 } },
      { input_tokens: 18, output_tokens: 20, cache_read_input_tokens: 5, cache_write_input_tokens: 3, total_tokens: 30 },
    ],
    [
      'Langfuse-normalised OpenAI details',
      { usageDetails: { input: 70, input_cached_tokens: 30, input_audio_tokens: 5, output: 40, output_reasoning_tokens: 10 } },
      { input_tokens: 105, output_tokens: 50, cache_read_input_tokens: 30, reasoning_output_tokens: 10 },
    ],
    ['usageDetails win over usage', { usage: { input: 1, output: 1 }, usageDetails: { input: 7 } }, { input_tokens: 7, output_tokens: 1 }],
    ['nothing', {}, {}],
  ])('%s', (_case, obs, expected) => {
    expect(toTokenUsage(obs)).toEqual(expected);
  });

  // The rule as first written (entry lists, filters and alias groups), kept as the oracle of the
  // one-pass version.
  const READ = ['input_cached_tokens', 'cache_read_input_tokens', 'input_cache_read', 'cache_read', 'cached_tokens'];
  const WRITE = ['input_cache_creation', 'cache_creation_input_tokens', 'input_cache_write', 'cache_write', 'cache_creation'];
  const REASONING = ['output_reasoning_tokens', 'output_reasoning', 'reasoning_tokens', 'reasoning'];
  function oracle(details: Record<string, number>): Record<string, number> {
    const pick = (keys: string[]) => keys.find((k) => details[k] !== undefined);
    const inputSide = Object.entries(details).filter(([k]) => k === 'input' || k.startsWith('input_') || READ.includes(k) || WRITE.includes(k));
    const outputSide = Object.entries(details).filter(([k]) => k === 'output' || k.startsWith('output_') || REASONING.includes(k));
    const sum = (entries: Array<[string, number]>, groups: string[][]) => {
      const seen = new Set<number>();
      let total = 0;
      for (const [key, value] of entries) {
        const group = groups.findIndex((g) => g.includes(key));
        if (group >= 0) {
          if (seen.has(group)) continue;
          seen.add(group);
        }
        total += value;
      }
      return total;
    };
    const usage: Record<string, number> = {};
    if (inputSide.length > 0) usage.input_tokens = sum(inputSide, [READ, WRITE]);
    if (outputSide.length > 0) usage.output_tokens = sum(outputSide, [REASONING]);
    const [r, w, x] = [pick(READ), pick(WRITE), pick(REASONING)];
    if (r) usage.cache_read_input_tokens = details[r]!;
    if (w) usage.cache_write_input_tokens = details[w]!;
    if (x) usage.reasoning_output_tokens = details[x]!;
    if (details.total !== undefined) usage.total_tokens = details.total;
    return usage;
  }

  it('counts every bucket as the rule says, aliases once, for any usage details (property)', () => {
    const key = fc.oneof(fc.constantFrom('input', 'output', 'total', 'input_audio', 'output_audio', 'other', ...READ, ...WRITE, ...REASONING), fc.string({ maxLength: 12 }));
    const value = fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 0, max: 1e6, noNaN: true }));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 10 }), (usageDetails) => {
        expect(toTokenUsage({ usageDetails })).toEqual(oracle({ ...usageDetails }));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('toTotalCost', () => {
  it.each([
    ['costDetails total', { costDetails: { total: 0.5 } }, 0.5],
    ['usage totalCost', { usage: { totalCost: 0.25 } }, 0.25],
    ['input plus output', { costDetails: { input: 0.1, output: 0.2 } }, 0.30000000000000004],
    ['costDetails over usage', { usage: { totalCost: 1 }, costDetails: { total: 2 } }, 2],
    ['other keys only', { costDetails: { cache: 1 } }, undefined],
    ['nothing', {}, undefined],
  ])('%s', (_case, obs, expected) => {
    expect(toTotalCost(obs)).toBe(expected);
  });
});

describe('toErrorType', () => {
  it.each([
    ['litellm.RateLimitError: slow down', 'RateLimitError'],
    ['litellm.APIConnectionError: boom', 'APIConnectionError'],
    ['Timeout: Request timed out', '_OTHER'],
    ['openai.APITimeoutError: took too long', 'APITimeoutError'],
    [undefined, '_OTHER'],
  ])('%s → %s', (message, expected) => {
    expect(toErrorType(message)).toBe(expected);
  });
});

describe('toIsoMicros', () => {
  const outcome = (format: (nanos: bigint) => string, nanos: bigint) => {
    try {
      return format(nanos);
    } catch (error) {
      return `throws ${(error as Error).name}`;
    }
  };

  it('writes microseconds after the date, truncating like BigInt division', () => {
    expect(toIsoMicros(1_767_323_045_678_123_456n)).toBe('2026-01-02T03:04:05.678123Z');
    expect(toIsoMicros(0n)).toBe('1970-01-01T00:00:00.000000Z');
    // Before the epoch, the milliseconds truncate toward zero and the microseconds count up from them.
    expect(toIsoMicros(-1_500_000n)).toBe('1969-12-31T23:59:59.999500Z');
    expect(toIsoMicros(253_402_300_799_999_999_999n)).toBe('9999-12-31T23:59:59.999999Z');
  });

  it('equals the BigInt-only text for any time, in any order (property)', () => {
    // Times near each other share their second's text; far ones and ones past 2^53 µs do not.
    const near = fc.bigInt({ min: 1_767_323_040_000_000_000n, max: 1_767_323_050_000_000_000n });
    const any = fc.bigInt({ min: -8_640_000_000_000_000_000_001n, max: 8_640_000_000_000_000_000_001n });
    fc.assert(
      fc.property(fc.array(fc.oneof(near, any), { minLength: 1, maxLength: 20 }), (times) => {
        for (const nanos of times) expect(outcome(toIsoMicros, nanos)).toBe(outcome(toIsoMicrosExact, nanos));
      }),
      { numRuns: 500 },
    );
  });
});
