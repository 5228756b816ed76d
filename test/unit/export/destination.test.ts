// Destinations built from config: each with its own mapping (and capture_content), its own sink;
// scores become spans except for Langfuse; mapping problems of all destinations reported at once.
import { describe, expect, it } from 'vitest';
import type { CompletedRecord } from '../../../src/assembly/completed-record.js';
import type { DestinationConfig } from '../../../src/config/destinations-config.js';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { createDestination, createDestinations, createServiceDestinations, laneFor, tenantOfRecord, toDestinationItem } from '../../../src/export/destination.js';
import { MappingError } from '../../../src/mapping/load-mapping.js';
import { exportThrough } from '../../helpers/export-through.js';

const options = { resourceAttributes: {}, bridgeVersion: '0.0.0-test', writeConsole: () => {} };
const common = { captureContent: true };
const transport = { url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/protobuf', headers: {}, timeoutMillis: 1000, compression: 'none' } as const;

const observation: CompletedRecord = {
  kind: 'observation',
  observation: {
    id: 'gen-1',
    type: 'GENERATION',
    traceId: 'trace-1',
    startTimeNanos: 1737566350957072000n,
    endTimeNanos: 1737566351234200000n,
    model: 'gpt-4o',
    input: [{ role: 'user', content: 'Hi' }],
    level: 'DEFAULT',
    environment: 'default',
  },
  trace: { id: 'trace-1', timestampNanos: 1737566350957072000n, name: 'chat', userId: 'u-1', public: false, tags: [], environment: 'default' },
  source: { sdkIntegration: 'litellm' },
};
const score: CompletedRecord = {
  kind: 'score',
  score: { id: 's-1', name: 'quality', value: 1, traceId: 'trace-1', source: 'API', environment: 'default', timestampNanos: 1737566351234200000n },
  source: {},
};

describe('destinations', () => {
  it('map the same record each with its own mapping and capture_content', async () => {
    const [genai, langfuse, quiet] = createDestinations(
      [
        { type: 'otlp', name: 'jaeger', mapping: 'genai', ...common, ...transport },
        { type: 'console', name: 'lf-shape', mapping: 'langfuse', ...common },
        { type: 'console', name: 'quiet', mapping: 'genai', captureContent: false },
      ],
      options,
    );
    const draftOf = (d: typeof genai) => {
      const item = toDestinationItem(d!, observation);
      if (item.kind !== 'span') throw new Error('expected a span');
      return item.draft;
    };
    expect(draftOf(genai)).toMatchObject({ name: 'chat gpt-4o', kind: 'CLIENT', attributes: { 'gen_ai.request.model': 'gpt-4o' } });
    expect(draftOf(genai).attributes).toHaveProperty('gen_ai.input.messages');
    expect(draftOf(langfuse).attributes).toMatchObject({ 'langfuse.observation.type': 'generation', 'langfuse.trace.name': 'chat', 'user.id': 'u-1' });
    expect(draftOf(quiet).attributes).not.toHaveProperty('gen_ai.input.messages');
    // Scores stay spans where there is no scores API.
    expect(toDestinationItem(genai!, score).kind).toBe('span');
    await Promise.all([genai, langfuse, quiet].map((d) => d!.shutdown()));
  });

  it('send Langfuse scores to its scores API', async () => {
    const config: DestinationConfig = {
      type: 'langfuse',
      name: 'lf',
      mapping: 'langfuse',
      ...common,
      ...transport,
      baseUrl: 'http://127.0.0.1:9',
      scoresUrl: 'http://127.0.0.1:9/api/public/scores',
      publicKey: 'pk',
      secretKey: 'sk',
    };
    const destination = createDestination(config, options);
    expect(toDestinationItem(destination, score)).toEqual({
      kind: 'score',
      score: { id: 's-1', name: 'quality', value: 1, traceId: expect.stringMatching(/^[0-9a-f]{32}$/), environment: 'default', source: 'API' },
    });
    await destination.shutdown();
  });

  it('come from a resolved ServiceConfig: OTEL_TRACES_EXPORTER=otlp,console prints as well', async () => {
    const written: string[] = [];
    const config = loadServiceConfig({ OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_SERVICE_NAME: 'my-app', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const destinations = createServiceDestinations(config, { bridgeVersion: '0.0.0-test', writeConsole: (t) => written.push(t) });
    expect(destinations.map((d) => [d.name, d.type])).toEqual([
      ['otlp', 'otlp'],
      ['console', 'console'],
    ]);
    const item = toDestinationItem(destinations[1]!, observation);
    expect(item.kind === 'span' && (await exportThrough(destinations[1]!.lanes[0]!.sink, [item.draft]))).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(written.join('')).toContain('└─ chat gpt-4o  [CLIENT]');
    await Promise.all(destinations.map((d) => d.shutdown()));
  });

  it('report the mapping problems of every destination at once', () => {
    const build = () =>
      createDestinations(
        [
          { type: 'console', name: 'a', mapping: 'no-such-preset', ...common },
          { type: 'console', name: 'b', mapping: 'genai', ...common },
          { type: 'console', name: 'c', mapping: './missing.yaml', ...common },
        ],
        options,
      );
    expect(build).toThrow(MappingError);
    try {
      build();
    } catch (error) {
      expect((error as MappingError).issues).toEqual([
        expect.stringMatching(/^destination 'a': no-such-preset: no such preset or file/),
        expect.stringMatching(/^destination 'c': \.\/missing\.yaml: no such preset or file/),
      ]);
    }
  });
});

describe('lanes per tenant', () => {
  const tenancy = {
    mode: 'multi' as const,
    resourceAttribute: 'langfuse.tenant',
    tenants: [
      { name: 'team-a', publicKey: 'pk-a', secretKey: 'sk-a' },
      { name: 'team-b', publicKey: 'pk-b', secretKey: 'sk-b' },
    ],
  };

  it('one lane (and queue) per tenant served; a record goes to its tenant\'s lane, or nowhere', async () => {
    const [all, onlyB] = createDestinations(
      [
        { type: 'otlp', name: 'tempo', mapping: 'genai', ...common, ...transport, headers: { 'X-Scope-OrgID': '${tenant}' } },
        { type: 'console', name: 'b', mapping: 'genai', ...common, tenants: ['team-b'] },
      ],
      { ...options, tenancy },
    );
    expect(all!.lanes.map((l) => [l.queue, l.tenant])).toEqual([['tempo@team-a', 'team-a'], ['tempo@team-b', 'team-b']]);
    expect(onlyB!.lanes.map((l) => l.queue)).toEqual(['b@team-b']);
    const ofA = { ...observation, source: { tenant: 'team-a' } } as CompletedRecord;
    expect(laneFor(all!, tenantOfRecord(ofA))?.queue).toBe('tempo@team-a');
    expect(laneFor(onlyB!, tenantOfRecord(ofA))).toBeUndefined();
    // A record stored before the tenants list existed belongs to no tenant: refused, never guessed.
    expect(() => laneFor(all!, tenantOfRecord(observation))).toThrow(/no tenant/);
    await Promise.all([all!.shutdown(), onlyB!.shutdown()]);
  });

  it('without a tenants list: one lane named after the destination, for every record', async () => {
    const [d] = createDestinations([{ type: 'console', name: 'c', mapping: 'genai', ...common }], options);
    expect(d!.lanes.map((l) => [l.queue, l.tenant])).toEqual([['c', 'default']]);
    expect(laneFor(d!, undefined)?.queue).toBe('c');
    await d!.shutdown();
  });
});
