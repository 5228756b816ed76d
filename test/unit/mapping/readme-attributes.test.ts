// The README's attribute tables are kept in step with the presets: every attribute a preset's
// own rules emit is named in its section (in full, as a `.suffix` of a listed name, or under a
// listed `prefix.*`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PRESETS_DIR } from '../../../src/mapping/load-mapping.js';

const README = readFileSync(path.join(PRESETS_DIR, '..', 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(title);
  if (start < 0) throw new Error(`README has no section ${title}`);
  const next = README.indexOf('\n### ', start + title.length);
  return README.slice(start, next < 0 ? undefined : next);
}

function presetKeys(name: string): string[] {
  const file = parse(readFileSync(path.join(PRESETS_DIR, `${name}.yaml`), 'utf8')) as { spans: Record<string, any> };
  const rules = [file.spans.root, file.spans.observation, file.spans.score, ...Object.values((file.spans.types ?? {}) as Record<string, any>)].filter(Boolean);
  return [...new Set(rules.flatMap((rule) => Object.entries(rule.attributes ?? {}).filter(([, r]) => r !== null).map(([k]) => k)))];
}

function isDocumented(text: string, key: string): boolean {
  if (text.includes(`\`${key}`)) return true;
  const segments = key.split('.');
  for (let i = 1; i < segments.length; i++) {
    const prefix = segments.slice(0, i).join('.');
    const suffix = segments.slice(i).join('.');
    if (text.includes(`\`${prefix}.*\``)) return true;
    // `.top_p` after `gen_ai.request.temperature`: a suffix listed after a name with the same prefix.
    const listed = text.includes(`\`.${suffix}\``) || text.includes(`\`.${suffix}.`);
    if (listed && text.includes(`\`${prefix}.`)) return true;
  }
  return false;
}

describe('README attribute tables', () => {
  it.each([
    ['genai', '### Attributes of the `genai` preset'],
    ['openinference', '### Attributes of the `openinference` preset'],
  ])('name every attribute of the %s preset', (preset, title) => {
    const text = section(title);
    const missing = presetKeys(preset).filter((key) => !isDocumented(text, key));
    expect(missing).toEqual([]);
  });
});
