// Reads a mapping file (and what it `extends`), validates it strictly and resolves inheritance.
// The only module of the mapping stage that touches the filesystem; runs once at startup.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatZodIssues, parseYamlFile } from '../strict-yaml.js';
import { mappingFileSchema, type MappingFile, type SpanRuleConfig } from './mapping-schema.js';

/** Every problem found in a mapping file, each naming the file, the YAML path and what was expected. */
export class MappingError extends Error {
  override readonly name = 'MappingError';
  constructor(readonly issues: string[]) {
    super(`invalid mapping:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
  }
}

/** The shipped presets live in `<package>/mappings`, two levels above this module in src/ and dist/. */
export const PRESETS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

/** A resolved mapping: the merged file content, with `extends` applied. */
export type ResolvedMapping = Omit<MappingFile, 'extends'> & { sources: string[] };

/** `name` is a preset (`genai`) or a path to a YAML file. Throws MappingError. */
export function loadMapping(name: string, cwd = process.cwd()): ResolvedMapping {
  return resolve(locate(name, cwd), []);
}

function locate(name: string, baseDir: string): string {
  if (/^[\w-]+$/.test(name)) {
    const preset = path.join(PRESETS_DIR, `${name}.yaml`);
    if (existsSync(preset)) return preset;
  }
  const file = path.resolve(baseDir, name);
  if (!existsSync(file)) {
    throw new MappingError([`${name}: no such preset or file (presets are the .yaml files in ${PRESETS_DIR})`]);
  }
  return file;
}

function resolve(file: string, chain: string[]): ResolvedMapping {
  if (chain.includes(file)) throw new MappingError([`${file}: extends: circular chain ${[...chain, file].join(' → ')}`]);
  const own = readMappingFile(file);
  if (!own.extends) {
    const { extends: _unused, ...rest } = own;
    return { ...rest, sources: [file] };
  }
  const parent = resolve(locate(own.extends, path.dirname(file)), [...chain, file]);
  return mergeMappings(parent, own, file);
}

function readMappingFile(file: string): MappingFile {
  const yaml = parseYamlFile(file, readFileSync(file, 'utf8'));
  if (!yaml.ok) throw new MappingError(yaml.issues);
  const parsed = mappingFileSchema.safeParse(yaml.value);
  if (!parsed.success) {
    throw new MappingError(
      formatZodIssues(file, parsed.error.issues, 'a path string, an attribute rule object (from, value, type, flatten, content, skip_values) or null'),
    );
  }
  const regexIssues: string[] = [];
  parsed.data.providers?.model_families?.forEach((family, i) => {
    try {
      new RegExp(family.match, 'i');
    } catch (e) {
      regexIssues.push(`${file}: providers.model_families[${i}].match: expected a regular expression (${(e as Error).message})`);
    }
  });
  if (regexIssues.length > 0) throw new MappingError(regexIssues);
  return parsed.data;
}

function mergeMappings(parent: ResolvedMapping, child: MappingFile, file: string): ResolvedMapping {
  const providers = {
    model_prefixes: { ...parent.providers?.model_prefixes, ...child.providers?.model_prefixes },
    metadata_keys: { ...parent.providers?.metadata_keys, ...child.providers?.metadata_keys },
    metadata_values: { ...parent.providers?.metadata_values, ...child.providers?.metadata_values },
    api_base_hosts: { ...parent.providers?.api_base_hosts, ...child.providers?.api_base_hosts },
    // A child's families are tried before the parent's.
    model_families: [...(child.providers?.model_families ?? []), ...(parent.providers?.model_families ?? [])],
  };
  const types: Record<string, SpanRuleConfig> = { ...parent.spans?.types };
  for (const [key, rule] of Object.entries(child.spans?.types ?? {})) types[key] = mergeSpanRule(types[key], rule);
  return {
    version: 1,
    description: child.description ?? parent.description,
    providers,
    spans: {
      root: mergeSpanRule(parent.spans?.root, child.spans?.root),
      observation: mergeSpanRule(parent.spans?.observation, child.spans?.observation),
      types,
      score: mergeSpanRule(parent.spans?.score, child.spans?.score),
    },
    sources: [...parent.sources, file],
  };
}

function mergeSpanRule(base: SpanRuleConfig | undefined, over: SpanRuleConfig | undefined): SpanRuleConfig {
  if (!over) return base ?? {};
  if (!base) return over;
  return {
    kind: over.kind ?? base.kind,
    name: over.name ?? base.name,
    status: over.status ?? base.status,
    // Key by key; a `null` rule in the child drops the inherited one (compile skips nulls).
    attributes: { ...base.attributes, ...over.attributes },
  };
}
