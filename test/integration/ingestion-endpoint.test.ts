// The HTTP contract (DESIGN §3) through supertest: routes, auth, the 207 body, and bad input of
// every kind answered with JSON while the valid events of the same batch are still exported.
// Event-level schema rules are in unit/ingestion; hostile-body fuzzing in durability/.
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { envelope } from '../helpers/ingestion-events.js';
import { createTestService, type TestService } from '../helpers/test-service.js';

const KEYS = { LANGFUSE_PUBLIC_KEY: 'pk-lf-test', LANGFUSE_SECRET_KEY: 'sk-lf-test' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const AUTH = basic('pk-lf-test', 'sk-lf-test');

const goodGeneration = (id: string) =>
  envelope(
    'generation-create',
    { id, traceId: 'trace-bad-input', startTime: '2026-11-26T10:00:00.000Z', endTime: '2026-11-26T10:00:01.000Z', model: 'gpt-4o' },
    { id: `env-${id}`, timestamp: '2026-11-26T10:00:00.000Z' },
  );

describe('POST /api/public/ingestion', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });
  const ingest = (body: unknown, auth = AUTH) =>
    request(service!.app).post('/api/public/ingestion').set('Authorization', auth).set('Content-Type', 'application/json').send(JSON.stringify(body));

  it('answers 207 with per-event results, creates before updates, sdk-log in neither list', async () => {
    service = await createTestService(KEYS);

    const res = await ingest({
      batch: [
        { id: 'u1', type: 'span-update', timestamp: '2026-11-26T10:00:00.000Z', body: { id: 's1', endTime: '2026-11-26T10:00:02Z' } },
        { id: 'c2', type: 'span-create', timestamp: '2026-11-26T10:00:01.000Z', body: { id: 's1', traceId: 't1' } },
        { id: 'c1', type: 'trace-create', timestamp: '2026-11-26T09:59:59.000Z', body: { id: 't1' } },
        { id: 'log', type: 'sdk-log', timestamp: '2026-11-26T10:00:00.000Z', body: { log: 'hello' } },
      ],
    });

    expect(res.status).toBe(207);
    expect(res.body).toEqual({
      successes: [
        { id: 'c1', status: 201 },
        { id: 'c2', status: 201 },
        { id: 'u1', status: 201 },
      ],
      errors: [],
    });
  });

  it.each([
    ['unknown event type', { id: 'x', type: 'banana-create', timestamp: '2026-11-26T10:00:00Z', body: { id: 'b' } }],
    ['missing envelope id', { type: 'span-create', timestamp: '2026-11-26T10:00:00Z', body: { id: 'b' } }],
    ['missing body id', { id: 'x', type: 'span-create', timestamp: '2026-11-26T10:00:00Z', body: { traceId: 't' } }],
    ['malformed timestamp', { id: 'x', type: 'span-create', timestamp: '2026-11-26 10:00:00', body: { id: 'b' } }],
    ['naive timestamp', { id: 'x', type: 'span-create', timestamp: '2026-11-26T10:00:00', body: { id: 'b' } }],
    ['wrong field type', { id: 'x', type: 'generation-create', timestamp: '2026-11-26T10:00:00Z', body: { id: 'b', usage: { input: '12' } } }],
    ['float token count', { id: 'x', type: 'generation-create', timestamp: '2026-11-26T10:00:00Z', body: { id: 'b', usage: { input: 1.5 } } }],
    ['a number where a string belongs', { id: 'x', type: 'trace-create', timestamp: '2026-11-26T10:00:00Z', body: { id: 't', userId: 42 } }],
    ['not an object', 'just a string'],
    ['null event', null],
  ])('rejects an event with %s as a 400 entry and still exports the valid events beside it', async (_case, bad) => {
    service = await createTestService({ ...KEYS, BRIDGE_TRACE_IDLE_MS: '10' });

    const res = await ingest({ batch: [goodGeneration('g-before'), bad, goodGeneration('g-after')] });
    await service.flush(50);

    expect(res.status).toBe(207);
    expect(res.body.successes.map((s: { id: string }) => s.id).sort()).toEqual(['env-g-after', 'env-g-before']);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ status: 400, message: 'Invalid request data' });
    expect(typeof res.body.errors[0].error).toBe('string');
    const exported = service.sink.drafts.filter((d) => d.span.type === 'observation').map((d) => (d.span as { id: string }).id);
    expect(exported.sort()).toEqual(['g-after', 'g-before']);
  });

  it('rejects a very long string and deeply nested metadata per event, keeping the rest', async () => {
    service = await createTestService(KEYS);
    const long = { ...goodGeneration('g-long'), body: { ...goodGeneration('g-long').body, input: 'x'.repeat(1_100_000) } };
    const nested = JSON.stringify({ ...goodGeneration('g-deep'), body: { ...goodGeneration('g-deep').body, metadata: '__DEEP__' } });
    // 5,000 levels: built as text, since JSON.stringify itself would run out of stack.
    const deep = `${'{"d":'.repeat(5_000)}"bottom"${'}'.repeat(5_000)}`;
    const raw = `{"batch":[${JSON.stringify(long)},${nested.replace('"__DEEP__"', deep)},${JSON.stringify(goodGeneration('g-ok'))}]}`;

    const res = await request(service.app).post('/api/public/ingestion').set('Authorization', AUTH).set('Content-Type', 'application/json').send(raw);

    expect(res.status).toBe(207);
    expect(res.body.successes).toEqual([{ id: 'env-g-ok', status: 201 }]);
    expect(res.body.errors.map((e: { id: string }) => e.id).sort()).toEqual(['env-g-deep', 'env-g-long']);
  });

  it('keeps __proto__ keys as data and never pollutes prototypes', async () => {
    service = await createTestService({ ...KEYS, BRIDGE_TRACE_IDLE_MS: '10' });
    const raw = `{"batch":[{"id":"p1","type":"span-create","timestamp":"2026-11-26T10:00:00Z","body":{"id":"proto-span","traceId":"t-proto","endTime":"2026-11-26T10:00:01Z","metadata":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"ok":1}},"__proto__":{"polluted":"yes"}}]}`;

    const res = await request(service.app).post('/api/public/ingestion').set('Authorization', AUTH).set('Content-Type', 'application/json').send(raw);
    await service.flush(50);

    expect(res.status).toBe(207);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const span = service.sink.drafts.find((d) => d.name === 'proto-span' || (d.span as { id?: string }).id === 'proto-span')!;
    expect(span.attributes['langfuse.observation.metadata.ok']).toBe(1);
    expect(span.attributes['langfuse.observation.metadata.__proto__']).toBe('{"polluted":"yes"}');
  });

  it.each([
    ['not JSON', 'application/json', '{"batch": [', 400, /Invalid JSON/],
    ['no batch', 'application/json', '{"events": []}', 400, /expected array, received undefined/],
    ['batch not an array', 'application/json', '{"batch": {}}', 400, /expected array, received object/],
    ['a JSON array body', 'application/json', '[]', 400, /expected array/],
    ['wrong content type', 'text/plain', '{"batch": []}', 400, /Content-Type must be application\/json/],
  ])('answers %s with a JSON 400', async (_case, contentType, body, status, message) => {
    service = await createTestService(KEYS);

    const res = await request(service.app).post('/api/public/ingestion').set('Authorization', AUTH).set('Content-Type', contentType).send(body);

    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(JSON.stringify(res.body)).toMatch(message);
  });

  it('answers an oversized body with a JSON 413', async () => {
    service = await createTestService({ ...KEYS, BRIDGE_MAX_BODY_BYTES: '1000' });

    const res = await ingest({ batch: [goodGeneration('big'), { pad: 'x'.repeat(2000) }] });

    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body.error).toBe('PayloadTooLargeError');
  });

  it('answers an empty batch with an empty 207', async () => {
    service = await createTestService(KEYS);
    const res = await ingest({ batch: [] });
    expect(res.status).toBe(207);
    expect(res.body).toEqual({ successes: [], errors: [] });
  });

  it.each([
    ['no header', undefined, 'No authorization header'],
    ['a lower-case scheme', `basic ${Buffer.from('pk-lf-test:sk-lf-test').toString('base64')}`, 'Invalid authorization header'],
    ['a wrong secret', basic('pk-lf-test', 'nope'), 'Invalid credentials'],
    ['a wrong public key', basic('pk-other', 'sk-lf-test'), 'Invalid credentials'],
    ['no password', basic('pk-lf-test', ''), 'Invalid authorization header'],
  ])('answers %s with 401 UnauthorizedError', async (_case, header, message) => {
    service = await createTestService(KEYS);
    const req = request(service.app).post('/api/public/ingestion').set('Content-Type', 'application/json');
    if (header) req.set('Authorization', header);

    const res = await req.send({ batch: [] });

    expect(res.status).toBe(401);
    expect(res.body.error).toBe('UnauthorizedError');
    expect(res.body.message).toContain(message);
  });

  it('accepts any caller when no keys are configured', async () => {
    service = await createTestService();
    const res = await request(service.app).post('/api/public/ingestion').send({ batch: [] });
    expect(res.status).toBe(207);
  });

  it('answers other methods with a JSON 405', async () => {
    service = await createTestService(KEYS);
    const res = await request(service.app).get('/api/public/ingestion').set('Authorization', AUTH);
    expect(res.status).toBe(405);
    expect(res.body).toEqual({ error: 'MethodNotAllowedError', message: 'Method not allowed' });
    // With keys set, every route but health, ready and metrics asks for them first.
    expect((await request(service.app).get('/api/public/ingestion')).status).toBe(401);
  });
});

describe('companion routes', () => {
  let service: TestService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it('serves health without auth, with the version', async () => {
    service = await createTestService(KEYS);
    const res = await request(service.app).get('/api/public/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'OK', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('is ready while accepting and not ready once shutting down', async () => {
    service = await createTestService(KEYS);
    expect((await request(service.app).get('/api/public/ready')).status).toBe(200);
    // Requests still in flight hold the rest of the shutdown; new ones are refused at once.
    let requestsDone = () => {};
    const stopping = service.shutdown({ requestsDone: new Promise<void>((done) => (requestsDone = done)) });
    const res = await request(service.app).get('/api/public/ready');
    expect(res.status).toBe(503);
    const ingest = await request(service.app).post('/api/public/ingestion').set('Authorization', AUTH).send({ batch: [] });
    expect(ingest.status).toBe(503);
    expect(ingest.headers['retry-after']).toBeDefined();
    requestsDone();
    expect(await stopping).toBe(true);
  });

  it('lists one project for valid keys, as LiteLLM and auth_check() expect', async () => {
    service = await createTestService(KEYS);
    const ok = await request(service.app).get('/api/public/projects').set('Authorization', AUTH);
    const bad = await request(service.app).get('/api/public/projects').set('Authorization', basic('pk-lf-test', 'wrong'));
    expect(ok.status).toBe(200);
    expect(ok.body.data).toHaveLength(1);
    expect(ok.body.data[0]).toMatchObject({ id: expect.any(String), name: expect.any(String), organization: { id: expect.any(String), name: expect.any(String) }, metadata: {} });
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ message: expect.stringContaining('Invalid credentials') });
  });

  it('declines media uploads with a deterministic media id', async () => {
    service = await createTestService(KEYS);
    const body = { traceId: 't', contentType: 'image/png', contentLength: 10, sha256Hash: 'abc', field: 'input' };
    const a = await request(service.app).post('/api/public/media').set('Authorization', AUTH).send(body);
    const b = await request(service.app).post('/api/public/media').set('Authorization', AUTH).send(body);
    expect(a.status).toBe(200);
    expect(a.body.uploadUrl).toBeNull();
    expect(a.body.mediaId).toBe(b.body.mediaId);
  });

  it('exposes Prometheus metrics with event counts by type', async () => {
    service = await createTestService(KEYS);
    await request(service.app)
      .post('/api/public/ingestion')
      .set('Authorization', AUTH)
      .send({ batch: [goodGeneration('m1'), { id: 'bad', type: 'nope' }] });
    const res = await request(service.app).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/bridge_events_accepted_total\{type="generation-create"\} 1/);
    expect(res.text).toMatch(/bridge_events_rejected_total\{type="unknown"\} 1/);
    expect(res.text).toMatch(/bridge_spool_bytes \d+/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    service = await createTestService(KEYS);
    const res = await request(service.app).get('/nope').set('Authorization', AUTH);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('NotFoundError');
    expect((await request(service.app).get('/nope')).body.error).toBe('UnauthorizedError');
  });
});
