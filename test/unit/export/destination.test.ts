// Destinations built from config (service.ts composes mapping/ and export/): each with its own
// mapping (and capture_content), its own sink; scores become spans except for Langfuse, whose
// scores queue holds them encoded for its scores API; mapping problems of all destinations
// reported at once.
import { describe, expect, it } from 'vitest';
import type { DestinationConfig } from '../../../src/config/destinations-config.js';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { createDestinations } from '../../../src/service.js';
import { mapAndEncode, takesRecord, toDestinationItem } from '../../../src/pipeline/map-record.js';
import { MappingError } from '../../../src/mapping/load-mapping.js';
import { exportDrafts } from '../../helpers/export-drafts.js';
import { observationRecord, scoreRecord } from '../../helpers/records.js';

const build = (destinations: DestinationConfig[]) => createDestinations({ destinations, resourceAttributes: {}, estimateCost: true }, { writeConsole: () => {} });
const common = { captureContent: true };
const transport = { url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/protobuf', headers: {}, timeoutMillis: 1000, compression: 'none' } as const;

const observation = observationRecord();
const score = scoreRecord();

describe('destinations', () => {
  it('map the same record each with its own mapping and capture_content', async () => {
    const built = build([
      { type: 'otlp', name: 'jaeger', mapping: 'genai', ...common, ...transport },
      { type: 'console', name: 'lf-shape', mapping: 'langfuse', ...common },
      { type: 'console', name: 'quiet', mapping: 'genai', captureContent: false },
    ]);
    const [genai, langfuse, quiet] = built.pipelineDestinations;
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
    await Promise.all(built.destinations.map((d) => d.shutdown()));
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
    const built = build([config]);
    const queued = mapAndEncode(built.pipelineDestinations[0]!, score);
    expect(queued.queue).toBe('lf#scores');
    expect(JSON.parse(Buffer.from(queued.payload).toString('utf8'))).toEqual({
      id: 's-1',
      name: 'quality',
      value: 1,
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      environment: 'default',
      source: 'API',
    });
    await Promise.all(built.destinations.map((d) => d.shutdown()));
  });

  it('come from a resolved ServiceConfig: OTEL_TRACES_EXPORTER=otlp,console prints as well', async () => {
    const written: string[] = [];
    const config = loadServiceConfig({ OTEL_TRACES_EXPORTER: 'otlp,console', OTEL_SERVICE_NAME: 'my-app', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    const { destinations, pipelineDestinations } = createDestinations(config, { writeConsole: (t) => written.push(t) });
    expect(destinations.map((d) => [d.name, d.type])).toEqual([
      ['otlp', 'otlp'],
      ['console', 'console'],
    ]);
    const item = toDestinationItem(pipelineDestinations[1]!, observation);
    expect(item.kind === 'span' && (await exportDrafts(destinations[1]!.lanes[0]!.sink, [item.draft]))).toEqual({ kind: 'success', rejectedSpans: 0 });
    // Held until its root arrives; printed at shutdown at the latest.
    await Promise.all(destinations.map((d) => d.shutdown()));
    expect(written.join('')).toContain('└─ chat gpt-4o  [CLIENT]');
  });

  it('report the mapping problems of every destination at once', () => {
    const bad = () =>
      build([
        { type: 'console', name: 'a', mapping: 'no-such-preset', ...common },
        { type: 'console', name: 'b', mapping: 'genai', ...common },
        { type: 'console', name: 'c', mapping: './missing.yaml', ...common },
      ]);
    expect(bad).toThrow(MappingError);
    try {
      bad();
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

  it('one lane (and queue) per tenant served; a record goes to its tenant\'s lane only', async () => {
    const built = createDestinations(
      {
        destinations: [
          { type: 'otlp', name: 'tempo', mapping: 'genai', ...common, ...transport, headers: { 'X-Scope-OrgID': '${tenant}' } },
          { type: 'console', name: 'b', mapping: 'genai', ...common, tenants: ['team-b'] },
        ],
        resourceAttributes: {},
        estimateCost: true,
        tenancy,
      },
      { writeConsole: () => {} },
    );
    expect(built.destinations.map((d) => d.lanes.map((l) => [l.queue, l.tenant]))).toEqual([
      [['tempo@team-a', 'team-a'], ['tempo@team-b', 'team-b']],
      [['b@team-b', 'team-b']],
    ]);
    expect(built.pipelineDestinations.map((d) => [d.name, d.scopedTo, d.feedsMetrics])).toEqual([
      ['tempo@team-a', 'team-a', true],
      ['tempo@team-b', 'team-b', true],
      ['b@team-b', 'team-b', false],
    ]);
    const ofA = { ...observation, source: { tenant: 'team-a' } } as typeof observation;
    expect(built.pipelineDestinations.filter((d) => takesRecord(d, ofA)).map((d) => d.name)).toEqual(['tempo@team-a']);
    expect(mapAndEncode(built.pipelineDestinations[0]!, ofA).queue).toBe('tempo@team-a');
    // A record stored before the tenants list existed belongs to no tenant: refused, never guessed.
    expect(() => mapAndEncode(built.pipelineDestinations[0]!, observation)).toThrow(/no tenant/);
    await Promise.all(built.destinations.map((d) => d.shutdown()));
  });

  it('without a tenants list: one lane named after the destination, for every record', async () => {
    const built = build([{ type: 'console', name: 'c', mapping: 'genai', ...common }]);
    expect(built.destinations[0]!.lanes.map((l) => [l.queue, l.tenant])).toEqual([['c', 'default']]);
    expect(takesRecord(built.pipelineDestinations[0]!, observation)).toBe(true);
    await Promise.all(built.destinations.map((d) => d.shutdown()));
  });
});
