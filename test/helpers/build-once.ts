// Vitest global setup: builds dist/ (tsc -p tsconfig.build.json) once per run when any file in
// src/ is newer than dist/main.js, so the durability tests run the real `node dist/main.js`.
// Type errors do not stop the run here (tsc still emits, and `npm test` type-checks first);
// a build that leaves no dist/main.js does.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST_MAIN = path.join(ROOT, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

export function isBuildStale(): boolean {
  if (!existsSync(DIST_MAIN)) return true;
  return newestMtime(path.join(ROOT, 'src')) > statSync(DIST_MAIN).mtimeMs;
}

export default function buildOnce(): void {
  if (!isBuildStale()) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = Date.now();
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (result.status !== 0) {
    console.warn(`[build-once] tsc -p tsconfig.build.json exited with ${result.status}:\n${(result.stdout + result.stderr).slice(0, 4000)}`);
  }
  if (!existsSync(DIST_MAIN)) throw new Error(`[build-once] the build did not produce ${DIST_MAIN}`);
  console.log(`[build-once] built dist/ in ${Date.now() - started} ms`);
}
