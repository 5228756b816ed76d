// The destinations: the BRIDGE_CONFIG file (strict, every problem at once, ${env:…} substitution)
// and the env form without one (OTEL_EXPORTER_OTLP_*, OTEL_TRACES_EXPORTER, BRIDGE_LANGFUSE_*).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { configFiles } from '../../helpers/config-files.js';
import { configIssuesOf } from '../../helpers/config-issues.js';

const configFile = configFiles('bridge-destinations-');
const dir = configFile.dir;
const issuesOf = configIssuesOf;

describe('destinations without a file', () => {
  it('is exactly one otlp destination from OTEL_EXPORTER_OTLP_*, as before', () => {
    const config = loadServiceConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Scope-OrgID=team%20a',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      BRIDGE_MAPPING: 'langfuse',
      BRIDGE_CAPTURE_CONTENT: 'false',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '2048',
    });
    expect(config.destinations).toEqual([
      {
        type: 'otlp',
        name: 'otlp',
        mapping: 'langfuse',
        captureContent: false,
        attributeValueLengthLimit: 2048,
        url: 'http://collector:4318/v1/traces',
        protocol: 'http/protobuf',
        headers: { 'X-Scope-OrgID': 'team a' },
        timeoutMillis: 10000,
        compression: 'gzip',
        unreachableHint:
          'Nothing answers at http://collector:4318/v1/traces: set OTEL_EXPORTER_OTLP_ENDPOINT to your OTLP/HTTP backend (for example http://collector:4318), declare destinations in a BRIDGE_CONFIG file, or set OTEL_TRACES_EXPORTER=console to print the spans in this terminal',
      },
    ]);
    expect(config.destinations[0]).toMatchObject(config.otlp);
  });

  it('BRIDGE_LANGFUSE_* alone is one langfuse destination (no OTLP exporter nobody asked for)', () => {
    const config = loadServiceConfig({
      BRIDGE_LANGFUSE_HOST: 'https://cloud.langfuse.com/',
      BRIDGE_LANGFUSE_PUBLIC_KEY: 'pk-lf-1',
      BRIDGE_LANGFUSE_SECRET_KEY: 'sk-lf-1',
    });
    expect(config.destinations).toEqual([
      expect.objectContaining({
        type: 'langfuse',
        name: 'langfuse',
        mapping: 'langfuse',
        baseUrl: 'https://cloud.langfuse.com',
        url: 'https://cloud.langfuse.com/api/public/otel/v1/traces',
        scoresUrl: 'https://cloud.langfuse.com/api/public/scores',
        publicKey: 'pk-lf-1',
        secretKey: 'sk-lf-1',
        protocol: 'http/protobuf',
      }),
    ]);
  });

  it('BRIDGE_LANGFUSE_* adds a langfuse destination beside an OTLP endpoint that is set', () => {
    const config = loadServiceConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://jaeger:4318/v1/traces',
      BRIDGE_LANGFUSE_HOST: 'http://langfuse:3000',
      BRIDGE_LANGFUSE_PUBLIC_KEY: 'pk',
      BRIDGE_LANGFUSE_SECRET_KEY: 'sk',
    });
    expect(config.destinations.map((d) => [d.name, d.type, d.mapping])).toEqual([
      ['otlp', 'otlp', 'genai'],
      ['langfuse', 'langfuse', 'langfuse'],
    ]);
  });

  it('OTEL_TRACES_EXPORTER=console prints instead; otlp,console does both', () => {
    expect(loadServiceConfig({ OTEL_TRACES_EXPORTER: 'console' }).destinations).toEqual([
      { type: 'console', name: 'console', mapping: 'genai', captureContent: true },
    ]);
    expect(loadServiceConfig({ OTEL_TRACES_EXPORTER: 'otlp, console' }).destinations.map((d) => d.type)).toEqual(['otlp', 'console']);
  });

  it('reports a half-set langfuse form, a bad exporter list and a bad variable together', () => {
    const issues = issuesOf({ BRIDGE_LANGFUSE_HOST: 'http://langfuse:3000', OTEL_TRACES_EXPORTER: 'zipkin', BRIDGE_PORT: 'x' });
    expect(issues).toEqual([
      expect.stringMatching(/^BRIDGE_PORT is invalid/),
      "OTEL_TRACES_EXPORTER is invalid: expected a comma-separated list of otlp and console, or none (actual: 'zipkin')",
      'BRIDGE_LANGFUSE_HOST, BRIDGE_LANGFUSE_PUBLIC_KEY, BRIDGE_LANGFUSE_SECRET_KEY must be set together (actual: BRIDGE_LANGFUSE_PUBLIC_KEY, BRIDGE_LANGFUSE_SECRET_KEY not set)',
    ]);
    expect(issuesOf({ OTEL_TRACES_EXPORTER: 'none' })).toEqual([expect.stringMatching(/^OTEL_TRACES_EXPORTER leaves no destination/)]);
  });
});

describe('the BRIDGE_CONFIG file', () => {
  it('resolves each destination with its defaults and ${env:…} substitution (mapping files relative to it)', () => {
    const file = configFile(`
destinations:
  - name: jaeger
    type: otlp
    endpoint: \${env:JAEGER_URL:-http://jaeger:4318}
    compression: gzip
    timeout: 5s
    headers:
      X-Price: "$$5 \${env:TENANT}"
  - name: tempo
    type: otlp
    traces_endpoint: http://tempo:4318/v1/traces
    protocol: http/json
    mapping: mappings/team.yaml
    capture_content: \${env:TEMPO_CONTENT:-false}
    attribute_value_length_limit: "\${env:TEMPO_LIMIT}"
    timeout: \${env:TEMPO_TIMEOUT}
  - name: langfuse-cloud
    type: langfuse
    endpoint: https://cloud.langfuse.com
    public_key: \${env:LF_PK}
    secret_key: \${env:LF_SK}
  - { name: stdout, type: console }
`);
    const config = loadServiceConfig({
      BRIDGE_CONFIG: file,
      TENANT: 'acme',
      TEMPO_LIMIT: '2048',
      TEMPO_TIMEOUT: '2500',
      LF_PK: 'pk-lf-9',
      LF_SK: 'sk-lf-9',
      BRIDGE_MAPPING: 'langfuse',
      // Ignored with a file: the file lists the destinations.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
    });
    expect(config.destinations).toEqual([
      {
        type: 'otlp',
        name: 'jaeger',
        mapping: 'langfuse',
        captureContent: true,
        url: 'http://jaeger:4318/v1/traces',
        protocol: 'http/protobuf',
        headers: { 'X-Price': '$5 acme' },
        timeoutMillis: 5000,
        compression: 'gzip',
        unreachableHint: expect.stringMatching(/^Nothing answers at http:\/\/jaeger:4318: check the endpoint of destination 'jaeger' in .*\.yaml$/),
      },
      {
        type: 'otlp',
        name: 'tempo',
        mapping: path.join(dir, 'mappings', 'team.yaml'),
        captureContent: false,
        attributeValueLengthLimit: 2048,
        url: 'http://tempo:4318/v1/traces',
        protocol: 'http/json',
        headers: {},
        timeoutMillis: 2500,
        compression: 'none',
        unreachableHint: expect.stringContaining("destination 'tempo' in "),
      },
      expect.objectContaining({
        type: 'langfuse',
        name: 'langfuse-cloud',
        mapping: 'langfuse',
        url: 'https://cloud.langfuse.com/api/public/otel/v1/traces',
        scoresUrl: 'https://cloud.langfuse.com/api/public/scores',
        publicKey: 'pk-lf-9',
        secretKey: 'sk-lf-9',
        timeoutMillis: 10000,
      }),
      { type: 'console', name: 'stdout', mapping: 'langfuse', captureContent: true },
    ]);
  });

  it('reports every problem at once, each with the file, the YAML path and what was expected', () => {
    const file = configFile(`
destinations:
  - name: jaeger
    type: otlp
    endpoint: not a url
    compresion: gzip
    timeout: soon
  - name: jaeger
    type: otlp
    public_key: pk
  - name: lf
    type: langfuse
    endpoint: http://langfuse:3000
    public_key: \${env:LF_PK}
    secret_key: \${LF_SK}
  - name: x
    type: zipkin
`);
    const issues = issuesOf({ BRIDGE_CONFIG: file, BRIDGE_TRACE_IDLE_MS: '-1' });
    expect(issues).toEqual([
      "BRIDGE_TRACE_IDLE_MS is invalid: expected a whole number from 0 to 9007199254740991 (actual: '-1')",
      `${file}: destinations[2].public_key: expected the environment variable LF_PK to be set (\${env:LF_PK} has no default; write \${env:LF_PK:-value} for one)`,
      `${file}: destinations[2].secret_key: expected \${env:NAME} or \${env:NAME:-default} (actual: '\${LF_SK}'; write $$ for a literal $)`,
      `${file}: destinations[0].timeout: expected a duration such as 10s, 500ms or a number of milliseconds`,
      `${file}: destinations[0].endpoint: expected an http(s) URL`,
      `${file}: destinations[0]: unknown key(s) "compresion"`,
      `${file}: destinations[1]: unknown key(s) "public_key"`,
      `${file}: destinations[3].type: expected a destination whose type is otlp, langfuse or console`,
    ]);
  });

  it('refuses a timeout a Node timer cannot hold', () => {
    const file = configFile(`
destinations:
  - name: far
    type: otlp
    endpoint: http://collector:4318
    timeout: 30d
  - name: farther
    type: otlp
    endpoint: http://collector:4318
    timeout: 2147484s
`);
    expect(issuesOf({ BRIDGE_CONFIG: file })).toEqual([
      `${file}: destinations[0].timeout: expected a duration such as 10s, 500ms or a number of milliseconds`,
      `${file}: destinations[1].timeout: expected a duration of at most 2147483647 ms (about 24 days)`,
    ]);
  });

  it('checks across fields once the schema holds: unique names, one endpoint, no Authorization for langfuse', () => {
    const file = configFile(`
destinations:
  - { name: a, type: otlp }
  - { name: a, type: otlp, endpoint: "http://x:4318", traces_endpoint: "http://x:4318/v1/traces" }
  - { name: b, type: langfuse, endpoint: "http://lf:3000", public_key: pk, secret_key: sk, headers: { authorization: "Basic x" } }
`);
    expect(issuesOf({ BRIDGE_CONFIG: file })).toEqual([
      `${file}: destinations[0].endpoint: expected exactly one of endpoint (a base URL, /v1/traces is appended) and traces_endpoint (the full URL) (actual: neither)`,
      `${file}: destinations[1].name: expected a unique name ('a' is also destinations[0].name)`,
      `${file}: destinations[1].endpoint: expected exactly one of endpoint (a base URL, /v1/traces is appended) and traces_endpoint (the full URL) (actual: both)`,
      `${file}: destinations[2].headers.authorization: unknown key: a langfuse destination authenticates with public_key and secret_key`,
    ]);
  });

  it('is strict at the top level and about YAML itself', () => {
    const unknownTop = configFile('destinations: [{ name: c, type: console }]\nexporters: {}\n');
    expect(issuesOf({ BRIDGE_CONFIG: unknownTop })).toEqual([`${unknownTop}: (top level): unknown key(s) "exporters"`]);
    const duplicateKey = configFile('destinations:\n  - name: c\n    name: d\n    type: console\n');
    expect(issuesOf({ BRIDGE_CONFIG: duplicateKey })).toEqual([expect.stringMatching(new RegExp(`^${duplicateKey}: Map keys must be unique`))]);
    const empty = configFile('destinations: []\n');
    expect(issuesOf({ BRIDGE_CONFIG: empty })).toEqual([`${empty}: destinations: expected at least one destination`]);
    expect(issuesOf({ BRIDGE_CONFIG: path.join(dir, 'missing.yaml') })).toEqual([
      `BRIDGE_CONFIG is invalid: expected a readable file (actual: '${path.join(dir, 'missing.yaml')}': ENOENT)`,
    ]);
  });

  it('cannot be combined with the BRIDGE_LANGFUSE_* short form', () => {
    const file = configFile('destinations: [{ name: c, type: console }]\n');
    expect(issuesOf({ BRIDGE_CONFIG: file, BRIDGE_LANGFUSE_HOST: 'http://lf:3000' })).toEqual([
      expect.stringMatching(/^BRIDGE_LANGFUSE_HOST, BRIDGE_LANGFUSE_PUBLIC_KEY, BRIDGE_LANGFUSE_SECRET_KEY cannot be combined with BRIDGE_CONFIG/),
    ]);
  });
});
