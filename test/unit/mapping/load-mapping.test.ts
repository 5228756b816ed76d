import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileMapping } from '../../../src/mapping/compile-mapping.js';
import { loadMapping, MappingError, PRESETS_DIR } from '../../../src/mapping/load-mapping.js';
import { observationView } from '../../../src/mapping/record-view.js';
import type { MergedObservation } from '../../../src/assembly/merge.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/mappings/', import.meta.url));

function errorOf(file: string): string {
  try {
    loadMapping(path.join(FIXTURES, 'invalid', file));
  } catch (error) {
    expect(error).toBeInstanceOf(MappingError);
    return (error as Error).message;
  }
  throw new Error(`${file} loaded without error`);
}

describe('loadMapping', () => {
  it('loads every shipped preset', () => {
    const presets = readdirSync(PRESETS_DIR).filter((f) => f.endsWith('.yaml'));
    expect(presets).toContain('genai.yaml');
    for (const preset of presets) expect(() => compileMapping(loadMapping(preset.replace('.yaml', '')), { captureContent: true })).not.toThrow();
  });

  it.each([
    ['unknown-key.yaml', 'spans.types.generation', 'unknown key(s) "colour"'],
    ['bad-kind.yaml', 'spans.root.kind', 'expected one of'],
    ['bad-type.yaml', 'spans.observation.attributes["gen_ai.request.temperature"]', 'expected'],
    ['bad-version.yaml', 'version', 'expected the number 1'],
    ['bad-regex.yaml', 'providers.model_families[0].match', 'expected a regular expression'],
    ['not-yaml.yaml', 'not-yaml.yaml', ''],
    ['bad-path.yaml', 'spans.score.attributes["gen_ai.evaluation.name"]', 'expected'],
  ])('%s: names the file, the YAML path (%s) and what was expected', (file, yamlPath, expected) => {
    const message = errorOf(file);
    expect(message).toContain(file);
    expect(message).toContain(yamlPath);
    expect(message).toContain(expected);
  });

  it('names a missing preset or file', () => {
    expect(() => loadMapping('no-such-preset')).toThrow(/no-such-preset: no such preset or file/);
  });

  it('applies extends: overrides, additions and dropped rules', () => {
    const mapping = compileMapping(loadMapping(path.join(FIXTURES, 'valid', 'extends-genai.yaml')), { captureContent: true });
    const obs: MergedObservation = {
      id: 'g',
      type: 'GENERATION',
      traceId: 't',
      startTimeNanos: 0n,
      level: 'DEFAULT',
      environment: 'default',
      model: 'acme/turbo-1',
      modelParameters: { temperature: 0.5 },
      input: [{ role: 'user', content: 'hi' }],
    };

    const shape = mapping.observation('generation', observationView(obs, { inferProvider: mapping.inferProvider, incomplete: false }));

    expect(shape.name).toBe('llm turbo-1');
    expect(shape.kind).toBe('CLIENT');
    expect(shape.attributes['team.name']).toBe('payments');
    expect(shape.attributes['gen_ai.provider.name']).toBe('acme.ai');
    expect(shape.attributes['gen_ai.request.temperature']).toBe(0.5);
    expect(shape.attributes['langfuse.observation.model.parameters']).toBeUndefined();
  });
});
