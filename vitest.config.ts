// `npm test` runs `vitest run test/unit test/integration` with this file: the global setup builds
// dist/ once when it is older than src/, for the durability tests that run `node dist/main.js`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/build-once.ts'],
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
  },
});
