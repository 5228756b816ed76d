/**
 * One LiteLLM call, two LiteLLM generations, one bridge: the same scenarios
 * (scripts/e2e/litellm_scenarios.py: plain, streaming, tool call, failure, metadata controls)
 * run through LiteLLM 1.103.11 (Langfuse SDK v2 → /api/public/ingestion) and the current
 * LiteLLM (Langfuse SDK 4.x → /api/public/otel/v1/traces), into one Jaeger. The two exported
 * trees are compared fact by fact (helpers/genai-facts.ts: span names, kinds, parent shape,
 * model, provider, tokens, cost, messages, status, trace attributes).
 *
 * Every difference that remains must be one of KNOWN_DIFFERENCES (each with its reason, the
 * same list as scripts/e2e/README.md "LiteLLM 1.103 vs current"), and every known difference
 * must still occur: the test fails on a new difference and on a stale entry. The side-by-side
 * tables are written to .e2e-cache/reports/litellm-compare.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffFacts, traceFacts, type FactDifference } from './helpers/genai-facts.js';
import { waitForTrace } from './helpers/jaeger.js';
import { SpanKind, otelTraceId, type FlatSpan } from './helpers/otlp.js';
import { CACHE_DIR } from './helpers/paths.js';
import { litellmOtelTraceId, runLitellmScenarios, type LitellmResult } from './helpers/python.js';
import { recordTree, resetReport } from './helpers/report.js';
import { startStack, type Stack } from './helpers/stack.js';

const REPORT = 'litellm-compare';
const SCENARIOS = ['plain', 'streaming', 'tools', 'failure', 'metadata'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface KnownDifference {
  /** Which facts (helpers/genai-facts.ts names); generation numbers are matched by \d+. */
  fact: RegExp;
  /** Only in these scenarios (default: wherever it occurs). */
  scenarios?: Scenario[];
  reason: string;
}

/** Keep in step with scripts/e2e/README.md "LiteLLM 1.103 vs current". */
export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    fact: /^(span count|span tree|root span|generation \d+ parent)$/,
    reason:
      'LiteLLM 1.103 sends a trace-create and a generation-create: the bridge exports the trace as an INTERNAL root span ' +
      'with the generation under it. The current LiteLLM sends one parent-less span per call and no trace entity; the bridge ' +
      'keeps the client\'s spans as sent and adds no synthetic root, so the generation is the root.',
  },
  {
    fact: /^(trace .+ on|generation \d+ has (langfuse\.trace\..+|user\.id|session\.id|gen_ai\.conversation\.id))$/,
    reason:
      'Trace attributes sit on the trace\'s root span: the trace span (1.103) or, with no trace span, the root generation ' +
      '(current), which therefore carries langfuse.trace.*, user.id, session.id and gen_ai.conversation.id too.',
  },
  {
    fact: /^generation \d+ has gen_ai\.response\.id$/,
    scenarios: ['metadata'],
    reason:
      'LiteLLM 1.103 carries the response id only inside its generation id (`time-…_<response id>`), which a ' +
      '`generation_id` in the metadata replaces; the current LiteLLM also sends it as metadata `response_id`.',
  },
  {
    fact: /^generation \d+ has langfuse\.observation\.metadata\.(litellm_call_id|response_id)$/,
    reason: 'The current LiteLLM adds litellm_call_id and response_id to the generation metadata it sends; 1.103 does not.',
  },
  {
    fact: /^trace langfuse\.trace\.(input|output)$/,
    reason:
      'LiteLLM 1.103 sends the trace\'s input/output in trace-create; the bridge puts them on the trace span as ' +
      'langfuse.trace.input/output. The current LiteLLM sends none: as in Langfuse, the root generation\'s own input/output ' +
      'are the trace\'s, and the bridge does not repeat them on that span (they are its gen_ai.input/output.messages).',
  },
];

function matches(known: KnownDifference, scenario: Scenario, d: FactDifference): boolean {
  return known.fact.test(d.fact) && (known.scenarios === undefined || known.scenarios.includes(scenario));
}

function markdownTable(legacy: Map<string, string>, current: Map<string, string>): string {
  const cell = (v: string): string => (v.length > 160 ? `${v.slice(0, 157)}…` : v).replace(/\|/g, '\\|');
  const keys = [...new Set([...legacy.keys(), ...current.keys()])];
  const rows = keys.map((k) => {
    const a = legacy.get(k) ?? '—';
    const b = current.get(k) ?? '—';
    return `| ${a === b ? '' : '≠ '}${k} | ${cell(a)} | ${cell(b)} |`;
  });
  return ['| fact | LiteLLM 1.103.11 (ingestion) | current LiteLLM (OTLP) |', '|---|---|---|', ...rows].join('\n');
}

describe('LiteLLM 1.103.11 (ingestion) vs current LiteLLM (OTLP): the same trees in Jaeger', () => {
  let stack: Stack;
  let legacy: LitellmResult;
  let current: LitellmResult;
  const trees = new Map<Scenario, { legacy: FlatSpan[]; current: FlatSpan[] }>();
  const run = randomBytes(4).toString('hex');

  beforeAll(async () => {
    resetReport(REPORT);
    // 3 s: LiteLLM 1.103's client flushes every second (see litellm.test.ts).
    stack = await startStack('litellm-compare', 3000);
    const { proxy, bridge } = stack;
    const common = { langfuseHost: proxy.url, publicKey: bridge.publicKey, secretKey: bridge.secretKey, run, only: [...SCENARIOS] };
    legacy = await runLitellmScenarios({ ...common, venv: 'legacy' });
    current = await runLitellmScenarios({ ...common, venv: 'current' });
    expect(legacy.errors, JSON.stringify(legacy.errors)).toEqual([]);
    expect(current.errors, JSON.stringify(current.errors)).toEqual([]);
    const sentCurrent = current.otlp.flatMap((e) => e.spans);
    for (const name of SCENARIOS) {
      const lfTraceId = legacy.scenarios[name]!.traceId;
      const generations = legacy.ingestion.flatMap((p) => p.events).filter((e) => e.type === 'generation-create' && e.traceId === lfTraceId).length;
      const legacyId = otelTraceId(lfTraceId);
      const legacySpans = await waitForTrace(stack.jaeger.queryUrl, legacyId, {
        until: (s) => s.some((x) => x.parentSpanId === '') && s.filter((x) => x.kind === SpanKind.CLIENT).length >= generations,
        timeoutMs: 30_000,
      });
      const currentId = name === 'plain' ? current.scenarios.plain!.traceId : litellmOtelTraceId(current.scenarios[name]!.traceId);
      const sent = sentCurrent.filter((s) => s.traceId === currentId);
      const currentSpans = await waitForTrace(stack.jaeger.queryUrl, currentId, {
        until: (s) => sent.length > 0 && sent.every((x) => s.some((g) => g.spanId === x.spanId)),
        timeoutMs: 30_000,
      });
      recordTree(REPORT, `${name} via 1.103.11 (ingestion)`, legacyId, legacySpans);
      recordTree(REPORT, `${name} via ${current.versions.litellm} (OTLP)`, currentId, currentSpans);
      trees.set(name, { legacy: legacySpans, current: currentSpans });
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('both generations ran against the same bridge, each on its own path', () => {
    expect(legacy.versions).toEqual({ litellm: '1.103.11', langfuse: '2.60.10' });
    expect(current.versions.litellm).not.toBe('1.107.0');
    expect(current.versions.langfuse).toMatch(/^4\./);
    const paths = new Set(stack.proxy.requests.filter((r) => r.method === 'POST').map((r) => `${r.url} ${r.status}`));
    expect([...paths].sort()).toEqual(['/api/public/ingestion 207', '/api/public/otel/v1/traces 200']);
  });

  it('every remaining difference is a known one, and every known one remains', () => {
    const sections: string[] = [`# LiteLLM 1.103.11 vs ${current.versions.litellm} through the bridge (run ${run})`];
    const unexpected: string[] = [];
    const used = new Set<KnownDifference>();
    for (const name of SCENARIOS) {
      const t = trees.get(name)!;
      const a = traceFacts(t.legacy);
      const b = traceFacts(t.current);
      sections.push(`\n## ${name}\n\n${markdownTable(a, b)}`);
      for (const d of diffFacts(a, b)) {
        const known = KNOWN_DIFFERENCES.find((k) => matches(k, name, d));
        if (known === undefined) unexpected.push(`${name}: ${d.fact}: 1.103 ${JSON.stringify(d.legacy)} vs current ${JSON.stringify(d.current)}`);
        else used.add(known);
      }
    }
    sections.push('\n## Known differences\n', ...KNOWN_DIFFERENCES.map((k) => `- \`${k.fact.source}\`: ${k.reason}`));
    fs.writeFileSync(path.join(CACHE_DIR, 'reports', `${REPORT}.md`), sections.join('\n') + '\n');
    const stale = KNOWN_DIFFERENCES.filter((k) => !used.has(k)).map((k) => k.fact.source);
    expect(unexpected, `differences not in KNOWN_DIFFERENCES (see .e2e-cache/reports/${REPORT}.md)`).toEqual([]);
    expect(stale, 'KNOWN_DIFFERENCES entries that no longer occur (remove them here and in the README)').toEqual([]);
  });
});
