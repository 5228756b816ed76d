// Resolves ../shared/fixtures (beside the checkout). Tests that need it skip, saying so, when absent.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED_FIXTURES = path.resolve(fileURLToPath(new URL('../../', import.meta.url)), '..', 'shared', 'fixtures');
export const hasSharedFixtures = existsSync(SHARED_FIXTURES);

if (!hasSharedFixtures) {
  console.warn(`[skipped] shared fixtures not found at ${SHARED_FIXTURES}: corpus tests are skipped`);
}

export function readFixture<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(path.join(SHARED_FIXTURES, relative), 'utf8')) as T;
}

export function listFixtures(folder: string): string[] {
  return readdirSync(path.join(SHARED_FIXTURES, folder))
    .filter((f) => f.endsWith('.json'))
    .sort();
}
