import { defineConfig } from 'vitest/config';

/**
 * End-to-end suite (`npm run test:e2e`, after scripts/provision-e2e.sh): real LiteLLM (1.103 and current), the
 * Langfuse JS SDKs v3 and v5, the Langfuse Python SDK 4.x, the built bridge and Jaeger v2, all on 127.0.0.1.
 * Files run one after another (each starts its own processes on free ports; running them in
 * parallel on a 2-core machine only makes timings flaky).
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/helpers/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    teardownTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
