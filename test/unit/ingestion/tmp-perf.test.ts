import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ingestionEventSchema, generationBodySchema, usageSchema, usageDetailsSchema, costDetailsSchema, jsonSchema } from '../../../src/ingestion/ingestion-schema.js';
import { validateBatch } from '../../../src/ingestion/validate-batch.js';
it('perf', () => {
  const body = JSON.parse(readFileSync('/work/shared/fixtures/litellm/completion_with_router.json', 'utf8'));
  const [tr, gen] = body.batch;
  const time = (label: string, f: () => unknown) => {
    const n = 20000;
    for (let round = 0; round < 3; round++) {
      const t = performance.now();
      for (let k = 0; k < n; k++) f();
      const ms = performance.now() - t;
      if (round === 2) console.log(label, 'us/op', ((ms * 1000) / n).toFixed(2));
    }
  };
  time('trace event', () => ingestionEventSchema.safeParse(tr));
  time('gen event', () => ingestionEventSchema.safeParse(gen));
  time('gen body', () => generationBodySchema.safeParse(gen.body));
  time('usage', () => usageSchema.safeParse(gen.body.usage));
  time('usageDetails', () => usageDetailsSchema.safeParse(gen.body.usageDetails));
  time('costDetails', () => costDetailsSchema.safeParse({ total: 0.1 }));
  time('metadata', () => jsonSchema.safeParse(gen.body.metadata));
  const batch: unknown[] = [];
  for (let i = 0; i < 100; i++) batch.push(...body.batch);
  time('batch of 200 / 200', () => validateBatch(batch));
});
