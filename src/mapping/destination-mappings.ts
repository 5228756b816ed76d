// Loads and compiles each destination's mapping once, at start: its own file or preset, its own
// capture_content. The mapping stage's entry for the composition root; every problem of every
// destination is reported at once. Knows nothing of sinks, queues or OTel.
import { compileMapping, type CompiledMapping } from './compile-mapping.js';
import { loadMapping, MappingError } from './load-mapping.js';

/** What a destination's config says about its mapping. */
export interface DestinationMappingConfig {
  name: string;
  /** A preset name or a path to a YAML file. */
  mapping: string;
  captureContent: boolean;
}

export interface DestinationMappingOptions {
  /** Base directory of relative mapping paths. */
  cwd?: string;
  /** BRIDGE_ESTIMATE_COST: price usage without a cost with genai-prices. @defaultValue true */
  estimateCost?: boolean;
}

/** One destination's compiled mapping. Throws MappingError. */
export function compileDestinationMapping(config: DestinationMappingConfig, options: DestinationMappingOptions = {}): CompiledMapping {
  return compileMapping(loadMapping(config.mapping, options.cwd), {
    captureContent: config.captureContent,
    ...(options.estimateCost !== undefined ? { estimateCost: options.estimateCost } : {}),
  });
}

/** Every destination's compiled mapping, in order, or one MappingError listing the problems of all. */
export function compileDestinationMappings(configs: readonly DestinationMappingConfig[], options: DestinationMappingOptions = {}): CompiledMapping[] {
  const issues: string[] = [];
  const compiled: CompiledMapping[] = [];
  for (const config of configs) {
    try {
      compiled.push(compileDestinationMapping(config, options));
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      issues.push(...error.issues.map((issue) => `destination '${config.name}': ${issue}`));
    }
  }
  if (issues.length > 0) throw new MappingError(issues);
  return compiled;
}
