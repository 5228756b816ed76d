/**
 * Vitest globalSetup for the e2e suite: builds the bridge once (`npm run build` → dist/main.js)
 * so that the tests run the current src/. A failed build does not abort the suite: the tests
 * that need no bridge (Jaeger harness, collector config) still run, and those that do fail with
 * the build output (provided to them as `bridgeBuildError`).
 * Set E2E_SKIP_BUILD=1 to use an existing dist/ as is.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { TestProject } from 'vitest/node';
import { LOG_DIR, REPO_ROOT } from './paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    bridgeBuildError: string;
  }
}

export default function setup(project: TestProject): void {
  // Process logs of this run only (.e2e-cache/logs/<name>-<pid>.log).
  fs.rmSync(LOG_DIR, { recursive: true, force: true });
  let error = '';
  if (process.env.E2E_SKIP_BUILD !== '1') {
    const started = Date.now();
    const res = spawnSync('npm', ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
    const output = `${res.stdout ?? ''}${res.stderr ?? ''}`;
    if (res.status !== 0) {
      error = `npm run build exited ${res.status}${res.error ? ` (${res.error.message})` : ''}:\n${output.split('\n').slice(-40).join('\n')}`;
      process.stderr.write(`[e2e] bridge build FAILED in ${Date.now() - started} ms; tests that need the bridge will fail\n`);
    } else {
      process.stderr.write(`[e2e] bridge built in ${Date.now() - started} ms\n`);
    }
  }
  project.provide('bridgeBuildError', error);
}
