// `npm test` runs `vitest run test/unit test/integration` with this file. Only the suites that
// run the real process (`node dist/main.js`: durability, the CLI, hostile callers) form the
// `process` project, whose global setup builds dist/ once when it is older than src/; unit and
// in-process integration suites never build it.
import { defineConfig } from 'vitest/config';

const PROCESS_SUITES = ['test/integration/durability/**/*.test.ts', 'test/integration/cli.test.ts', 'test/integration/hostile-callers.test.ts'];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], exclude: PROCESS_SUITES } },
      { test: { name: 'process', include: PROCESS_SUITES, globalSetup: ['test/helpers/build-once.ts'] } },
    ],
  },
});
