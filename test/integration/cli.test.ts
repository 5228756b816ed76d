// The offline commands, spawned as the built CLI (`node dist/main.js`, built by build-once).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DIST_MAIN } from '../helpers/build-once.js';
import { hasSharedFixtures, SHARED_FIXTURES } from '../helpers/shared-fixtures.js';

const ROOT = path.resolve(path.dirname(DIST_MAIN), '..');

/** No BRIDGE_* or OTEL_* variables: the offline commands must not need any. */
function cli(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [DIST_MAIN, ...args], { cwd: ROOT, input, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const batch = {
  batch: [
    { id: 'e1', type: 'trace-create', timestamp: '2026-11-20T10:00:00.000Z', body: { id: 't-1', name: 'support-chat', timestamp: '2026-11-20T10:00:00.000Z', userId: 'u-1' } },
    {
      id: 'e2',
      type: 'generation-create',
      timestamp: '2026-11-20T10:00:01.000Z',
      body: {
        id: 'g-1',
        traceId: 't-1',
        name: 'answer',
        startTime: '2026-11-20T10:00:00.100Z',
        endTime: '2026-11-20T10:00:01.000Z',
        model: 'gpt-4o',
        input: [{ role: 'user', content: 'Hi' }],
        output: { role: 'assistant', content: 'Hello' },
        usage: { input: 10, output: 20, unit: 'TOKENS' },
      },
    },
  ],
  metadata: { sdk_integration: 'DEFAULT', sdk_name: 'javascript', sdk_version: '3.39.2' },
};

describe('langfuse-otel-bridge convert', () => {
  it('prints the OTLP/JSON request the bridge would send, from standard input', () => {
    const { status, stdout, stderr } = cli(['convert', '-'], JSON.stringify(batch));
    expect(status, stderr).toBe(0);
    const request = JSON.parse(stdout);
    const spans = request.resourceSpans[0].scopeSpans[0].spans;
    expect(spans.map((s: any) => s.name).sort()).toEqual(['chat gpt-4o', 'support-chat']);
    const chat = spans.find((s: any) => s.name === 'chat gpt-4o');
    const attrs = Object.fromEntries(chat.attributes.map((a: any) => [a.key, Object.values(a.value)[0]]));
    expect(attrs).toMatchObject({ 'gen_ai.provider.name': 'openai', 'user.id': 'u-1', 'langfuse.observation.cost_estimated': true });
    expect(chat.parentSpanId).toBe(spans.find((s: any) => s.name === 'support-chat').spanId);
    expect(stderr).toContain('2 span(s), 0 event(s) rejected');
  });

  it('prints a readable tree with another preset, and can leave the estimate out', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'convert-'));
    const file = path.join(dir, 'batch.json');
    writeFileSync(file, JSON.stringify(batch));
    const { status, stdout } = cli(['convert', file, '--mapping', 'openinference', '--format', 'tree', '--no-estimate-cost']);
    expect(status).toBe(0);
    // The console destination's tree: OTel ids, the Langfuse trace id, children under their parent.
    expect(stdout).toMatch(/^trace [0-9a-f]{32} \(langfuse\), langfuse trace t-1\n/);
    expect(stdout).toMatch(/\n└─ support-chat {2}\[INTERNAL\]/);
    expect(stdout).toMatch(/\n {3}└─ chat gpt-4o {2}\[CLIENT\] {2}\S+ {2}900 ms/);
    expect(stdout).toContain('openinference.span.kind = "LLM"');
    expect(stdout).not.toContain('gen_ai.usage.cost');
  });

  it.skipIf(!hasSharedFixtures)('converts a real LiteLLM body', () => {
    const { status, stdout } = cli(['convert', path.join(SHARED_FIXTURES, 'litellm', 'completion.json'), '--format', 'tree']);
    expect(status).toBe(0);
    expect(stdout).toContain('chat gpt-3.5-turbo  [CLIENT]');
  });

  it('exits 1 and lists rejected events, still printing the rest', () => {
    const bad = { batch: [...batch.batch, { id: 'e3', type: 'generation-create', timestamp: 'yesterday', body: { id: 'g-2' } }] };
    const { status, stdout, stderr } = cli(['convert', '-', '--format', 'tree'], JSON.stringify(bad));
    expect(status).toBe(1);
    expect(stdout).toContain('chat gpt-4o');
    expect(stderr).toContain('1 event(s) rejected');
  });

  it('refuses bad arguments and input with exit status 2', () => {
    expect(cli(['convert', '-', '--format', 'yaml'], '{}')).toMatchObject({ status: 2, stderr: expect.stringContaining('--format: expected otlp-json or tree') });
    expect(cli(['convert', '-'], 'not json')).toMatchObject({ status: 2, stderr: expect.stringContaining('is not JSON') });
    expect(cli(['convert', '-', '--mapping', 'nope'], '{}')).toMatchObject({ status: 2, stderr: expect.stringContaining('no such preset or file') });
  });

  it('has --help', () => {
    const { status, stdout } = cli(['convert', '--help']);
    expect(status).toBe(0);
    expect(stdout).toContain('Usage: langfuse-otel-bridge convert <batch.json|->');
  });
});

describe('langfuse-otel-bridge check-mapping', () => {
  it('accepts a valid file, naming what it extends', () => {
    const { status, stdout } = cli(['check-mapping', 'test/fixtures/mappings/valid/extends-genai.yaml']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/valid mapping \(.*genai\.yaml → .*extends-genai\.yaml\)/);
  });

  it.each([
    ['unknown-key.yaml', 'spans.types.generation: unknown key(s) "colour"; expected one of kind, name, attributes, status'],
    ['bad-kind.yaml', 'spans.root.kind: expected one of "INTERNAL"|"SERVER"|"CLIENT"|"PRODUCER"|"CONSUMER"'],
    ['bad-version.yaml', 'version: expected the number 1'],
  ])('refuses %s with the file, the YAML path and what was expected', (file, message) => {
    const { status, stderr } = cli(['check-mapping', `test/fixtures/mappings/invalid/${file}`]);
    expect(status).toBe(1);
    expect(stderr).toContain(`${path.join(ROOT, 'test/fixtures/mappings/invalid', file)}: ${message}`);
  });

  it('has --help, and needs one file', () => {
    expect(cli(['check-mapping', '--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('Usage: langfuse-otel-bridge check-mapping <file>') });
    expect(cli(['check-mapping'])).toMatchObject({ status: 2 });
  });
});
