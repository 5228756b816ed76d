// Reads a mapping file (and what it `extends`), validates it strictly and resolves inheritance.
// The only module of the mapping stage that touches the filesystem; runs once at startup.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
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
  const text = readFileSync(file, 'utf8');
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new MappingError(doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`));
  }
  const parsed = mappingFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new MappingError(parsed.error.issues.map((issue) => `${file}: ${formatPath(issue.path)}: ${describeIssue(issue)}`));
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

function formatPath(segments: ReadonlyArray<PropertyKey>): string {
  if (segments.length === 0) return '(top level)';
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[\w-]+$/.test(String(s)) ? `${i === 0 ? '' : '.'}${String(s)}` : `["${String(s)}"]`))
    .join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(issue.path);
    return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}${allowed ? `; expected one of ${allowed.join(', ')}` : ''}`;
  }
  if (issue.code === 'invalid_value') return `expected ${issue.message.replace(/^Invalid (option|input): expected /, '')}`;
  if (issue.code === 'invalid_union') return 'expected a path string, an attribute rule object (from, value, type, flatten, content, skip_values, map) or null';
  return `expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
}

/** The keys the schema allows at a YAML path, for "unknown key" messages. */
function allowedKeysAt(segments: ReadonlyArray<PropertyKey>): string[] | undefined {
  let schema: z.core.$ZodType | undefined = mappingFileSchema;
  const unwrap = (s: z.core.$ZodType | undefined): z.core.$ZodType | undefined => {
    let current = s;
    while (current && (current._zod.def.type === 'optional' || current._zod.def.type === 'nullable')) {
      current = (current._zod.def as unknown as { innerType: z.core.$ZodType }).innerType;
    }
    if (current && current._zod.def.type === 'union') {
      const options = (current._zod.def as unknown as { options: z.core.$ZodType[] }).options;
      current = options.find((o) => o._zod.def.type === 'object') ?? current;
    }
    return current;
  };
  for (const segment of segments) {
    schema = unwrap(schema);
    if (!schema) return undefined;
    const def = schema._zod.def as unknown as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType };
    if (def.type === 'object') schema = def.shape?.[String(segment)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return undefined;
  }
  schema = unwrap(schema);
  const def = schema?._zod.def as unknown as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
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
