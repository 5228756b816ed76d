import request from 'supertest';
import { it } from 'vitest';
import { readFixture } from '../helpers/shared-fixtures.js';
import { createTestService } from '../helpers/test-service.js';

it('smoke', async () => {
  const s = createTestService();
  const body = readFixture<object>('seed/litellm-trace-and-generation.json');
  const res = await request(s.app).post('/api/public/ingestion').send(body);
  console.log(res.status, JSON.stringify(res.body));
  await s.flush(2000);
  console.log(JSON.stringify(s.sink.drafts, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2));
  await s.shutdown();
});
