// Config files for tests: written to a temporary folder removed after the file's tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/** A writer of numbered YAML files in a fresh temporary folder (removed after the test file). */
export function configFiles(prefix: string): ((text: string) => string) & { dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let fileCount = 0;
  const write = (text: string) => {
    const file = path.join(dir, `bridge-${++fileCount}.yaml`);
    writeFileSync(file, text);
    return file;
  };
  return Object.assign(write, { dir });
}
