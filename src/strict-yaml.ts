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

/** What a zod issue expected, in words; `unionHint` describes the alternatives of a union. */
export function describeZodIssue(issue: z.core.$ZodIssue, unionHint?: string): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union' && unionHint) return `expected ${unionHint}`;
  return `expected ${issue.message.replace(/^Invalid input: expected /, '')}`;
}

/** Every issue of a failed parse as `<file>: <path>: <what was expected>`. */
export function formatZodIssues(file: string, issues: readonly z.core.$ZodIssue[], unionHint?: string): string[] {
  return issues.map((issue) => `${file}: ${formatYamlPath(issue.path)}: ${describeZodIssue(issue, unionHint)}`);
}
