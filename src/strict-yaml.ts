// Reading a strict YAML file (mapping files, the destinations file): YAML syntax errors and schema
// issues become messages that name the file, the YAML path and what was expected. A leaf module:
// it knows YAML and zod, nothing of mappings or configuration.
import { parseDocument } from 'yaml';
import type { z } from 'zod';

/** The file's content as plain data, or every YAML syntax error in it. */
export function parseYamlFile(file: string, text: string): { ok: true; value: unknown } | { ok: false; issues: string[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, issues: doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`) };
  return { ok: true, value: doc.toJS() };
}

/** `destinations[1].headers["X-Scope-OrgID"]`; `(top level)` for the document itself. */
export function formatYamlPath(segments: ReadonlyArray<PropertyKey>): string {
  if (segments.length === 0) return '(top level)';
  return segments
    .map((s, i) => (typeof s === 'number' ? `[${s}]` : /^[\w-]+$/.test(String(s)) ? `${i === 0 ? '' : '.'}${String(s)}` : `["${String(s)}"]`))
    .join('');
}

/**
 * What a zod issue expected, in words; `unionHint` describes the alternatives of a union, and
 * `schema` (the file's schema) lets an unknown key name the keys allowed there.
 */
export function describeZodIssue(issue: z.core.$ZodIssue, unionHint?: string, schema?: z.core.$ZodType): string {
  if (issue.code === 'unrecognized_keys') {
    const allowed = schema ? allowedKeysAt(schema, issue.path) : undefined;
    return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}${allowed ? `; expected one of ${allowed.join(', ')}` : ''}`;
  }
  if (issue.code === 'invalid_union' && unionHint) return `expected ${unionHint}`;
  if (issue.code === 'invalid_value') return `expected ${issue.message.replace(/^Invalid (option|input): expected /, '')}`;
  return `expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
}

/** Every issue of a failed parse as `<file>: <path>: <what was expected>`. */
export function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[], unionHint?: string, schema?: z.core.$ZodType): string[] {
  return issues.map((issue) => `${file}: ${formatYamlPath(issue.path)}: ${describeZodIssue(issue, unionHint, schema)}`);
}

type SchemaDef = { type: string; innerType?: z.core.$ZodType; options?: z.core.$ZodType[]; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType; element?: z.core.$ZodType };
const defOf = (schema: z.core.$ZodType) => schema._zod.def as unknown as SchemaDef;

/** Optional and nullable wrappers off; a union stands for its object alternative. */
function unwrap(schema: z.core.$ZodType | undefined): z.core.$ZodType | undefined {
  let current = schema;
  while (current && (defOf(current).type === 'optional' || defOf(current).type === 'nullable')) current = defOf(current).innerType;
  if (current && defOf(current).type === 'union') current = defOf(current).options?.find((o) => defOf(o).type === 'object') ?? current;
  return current;
}

/** The keys `schema` allows at a YAML path, for "unknown key" messages. */
function allowedKeysAt(root: z.core.$ZodType, segments: ReadonlyArray<PropertyKey>): string[] | undefined {
  let schema: z.core.$ZodType | undefined = root;
  for (const segment of segments) {
    schema = unwrap(schema);
    if (!schema) return undefined;
    const def = defOf(schema);
    if (def.type === 'object') schema = def.shape?.[String(segment)];
    else if (def.type === 'record') schema = def.valueType;
    else if (def.type === 'array') schema = def.element;
    else return undefined;
  }
  schema = unwrap(schema);
  const def = schema ? defOf(schema) : undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}
