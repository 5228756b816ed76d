import { it } from 'vitest';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ingestionEventSchema, traceBodySchema, generationBodySchema, usageSchema, usageDetailsSchema, idSchema } from '../../../src/ingestion/ingestion-schema.js';
import { langfuseDatetimeSchema } from '../../../src/ingestion/timestamp.js';
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
  time('trace body', () => traceBodySchema.safeParse(tr.body));
  time('gen body', () => generationBodySchema.safeParse(gen.body));
  time('datetime', () => langfuseDatetimeSchema.safeParse(gen.body.startTime));
  time('usage', () => usageSchema.safeParse(gen.body.usage));
  time('usageDetails', () => usageDetailsSchema.safeParse(gen.body.usageDetails));
  time('id', () => idSchema.safeParse(gen.id));
  const simple = z.object({ a: z.string().nullish(), b: z.string().nullish() });
  time('simple', () => simple.safeParse({ a: 'x', b: 'y' }));
  console.log(Object.keys(gen.body), gen.body.usageDetails, gen.body.startTime);
});
