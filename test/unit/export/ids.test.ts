// Covers src/export/ids.ts: deterministic trace and span ids from Langfuse ids (DESIGN §4 "Ids").
// How the ids reach the wire is covered by test/integration/otlp-export.test.ts.

import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { toSpanId, toTraceId } from '../../../src/export/ids.js';
import type { SpanRef } from '../../../src/mapping/span-draft.js';

function sha256Hex(input: string, bytes: number): string {
  return createHash('sha256').update(input, 'utf8').digest().subarray(0, bytes).toString('hex');
}

const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

describe('toTraceId', () => {
  it.each([
    ['a 32-hex id as is', '0af7651916cd43dd8448eb211c80319c', '0af7651916cd43dd8448eb211c80319c'],
    ['a 32-hex id lower-cased', '0AF7651916CD43DD8448EB211C80319C', '0af7651916cd43dd8448eb211c80319c'],
    ['a UUID without its dashes', '9f1c2b7e-5d4a-4c3b-8a29-1e6f0d7c4b3a', '9f1c2b7e5d4a4c3b8a291e6f0d7c4b3a'],
    ['an upper-case UUID lower-cased', '9F1C2B7E-5D4A-4C3B-8A29-1E6F0D7C4B3A', '9f1c2b7e5d4a4c3b8a291e6f0d7c4b3a'],
    ['an arbitrary string hashed', 'litellm-trace-42', sha256Hex('trace:litellm-trace-42', 16)],
    ['an empty string hashed', '', sha256Hex('trace:', 16)],
    ['31 hex digits hashed', '0af7651916cd43dd8448eb211c80319', sha256Hex('trace:0af7651916cd43dd8448eb211c80319', 16)],
    ['a UUID with misplaced dashes hashed', '9f1c2b7e5-d4a-4c3b-8a29-1e6f0d7c4b3a', sha256Hex('trace:9f1c2b7e5-d4a-4c3b-8a29-1e6f0d7c4b3a', 16)],
    ['an orphan id hashed', 'orphan:obs-1', sha256Hex('trace:orphan:obs-1', 16)],
  ])('returns %s', (_case, input, expected) => {
    expect(toTraceId(input)).toBe(expected);
  });

  it.each([
    ['the all-zero 32-hex id', ZERO_TRACE_ID],
    ['the nil UUID', '00000000-0000-0000-0000-000000000000'],
  ])('never returns the all-zero id for %s', (_case, input) => {
    const id = toTraceId(input);

    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).not.toBe(ZERO_TRACE_ID);
    expect(id).toBe(sha256Hex(`trace:${input}`, 16));
  });

  it('returns the same id for the same input', () => {
    expect(toTraceId('some trace')).toBe(toTraceId('some trace'));
  });
});

describe('toSpanId', () => {
  it.each<[string, SpanRef, string]>([
    ['a 16-hex observation id as is', { type: 'observation', id: 'b7ad6b7169203331' }, 'b7ad6b7169203331'],
    ['a 16-hex observation id lower-cased', { type: 'observation', id: 'B7AD6B7169203331' }, 'b7ad6b7169203331'],
    ['a UUID observation id hashed', { type: 'observation', id: '9f1c2b7e-5d4a-4c3b-8a29-1e6f0d7c4b3a' }, sha256Hex('span:9f1c2b7e-5d4a-4c3b-8a29-1e6f0d7c4b3a', 8)],
    ['an arbitrary observation id hashed', { type: 'observation', id: 'gen-1' }, sha256Hex('span:gen-1', 8)],
    ['a root span from the Langfuse trace id', { type: 'root', traceId: 'trace-1' }, sha256Hex('root:trace-1', 8)],
    ['a root span of a 32-hex trace id still hashed', { type: 'root', traceId: '0af7651916cd43dd8448eb211c80319c' }, sha256Hex('root:0af7651916cd43dd8448eb211c80319c', 8)],
    ['a score hashed', { type: 'score', id: 'score-1' }, sha256Hex('score:score-1', 8)],
  ])('returns %s', (_case, ref, expected) => {
    expect(toSpanId(ref)).toBe(expected);
  });

  it('gives distinct ids to an observation, a root and a score named alike', () => {
    const ids = new Set([
      toSpanId({ type: 'observation', id: 'x' }),
      toSpanId({ type: 'root', traceId: 'x' }),
      toSpanId({ type: 'score', id: 'x' }),
    ]);

    expect(ids.size).toBe(3);
  });

  it.each<[string, SpanRef]>([
    ['the all-zero 16-hex observation id', { type: 'observation', id: ZERO_SPAN_ID }],
    ['an all-zero root trace id', { type: 'root', traceId: ZERO_TRACE_ID }],
    ['an all-zero score id', { type: 'score', id: ZERO_SPAN_ID }],
  ])('never returns the all-zero id for %s', (_case, ref) => {
    const id = toSpanId(ref);

    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).not.toBe(ZERO_SPAN_ID);
  });

  it('hashes an all-zero observation id like any other string', () => {
    expect(toSpanId({ type: 'observation', id: ZERO_SPAN_ID })).toBe(sha256Hex(`span:${ZERO_SPAN_ID}`, 8));
  });
});

describe('ids with a tenant (a tenants list is configured)', () => {
  const HEX_TRACE = '0af7651916cd43dd8448eb211c80319c';
  const HEX_SPAN = 'b7ad6b7169203331';

  it('hashes every id with the tenant, hex ones included, so two tenants never share a trace or a span', () => {
    expect(toTraceId(HEX_TRACE, 'team-a')).toBe(sha256Hex(`trace@team-a:${HEX_TRACE}`, 16));
    expect(toTraceId(HEX_TRACE, 'team-a')).not.toBe(toTraceId(HEX_TRACE, 'team-b'));
    expect(toSpanId({ type: 'observation', id: HEX_SPAN }, 'team-a')).toBe(sha256Hex(`span@team-a:${HEX_SPAN}`, 8));
    expect(toSpanId({ type: 'root', traceId: 't-1' }, 'team-a')).toBe(sha256Hex('root@team-a:t-1', 8));
    expect(toSpanId({ type: 'score', id: 's-1' }, 'team-b')).toBe(sha256Hex('score@team-b:s-1', 8));
  });

  it('keeps the ids of before without a tenant', () => {
    expect(toTraceId(HEX_TRACE, undefined)).toBe(HEX_TRACE);
    expect(toSpanId({ type: 'observation', id: HEX_SPAN }, undefined)).toBe(HEX_SPAN);
  });
});
