// The console destination: span drafts printed as a tree per trace, children under their parents
// in start order, attributes under each span; a span whose parent is elsewhere starts its own tree.
import { describe, expect, it } from 'vitest';
import { createConsoleSpanSink, formatSpanTree } from '../../../src/export/console-span-sink.js';
import { toSpanId, toTraceId } from '../../../src/export/ids.js';
import { makeDraft } from '../../helpers/make-draft.js';
import { exportDrafts } from '../../helpers/export-drafts.js';

const root = makeDraft({
  span: { type: 'root', traceId: 'trace-1' },
  parent: undefined,
  name: 'litellm-acompletion',
  kind: 'INTERNAL',
  startTimeUnixNano: 1737566350000000000n,
  endTimeUnixNano: 1737566352500000000n,
  attributes: { 'langfuse.trace.name': 'litellm-acompletion', 'user.id': 'u-1' },
});
const chat = makeDraft({ attributes: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 10 } });
const tool = makeDraft({
  span: { type: 'observation', id: 'tool-1' },
  parent: { type: 'observation', id: 'gen-1' },
  name: 'execute_tool search',
  kind: 'INTERNAL',
  startTimeUnixNano: 1737566351000000000n,
  endTimeUnixNano: 1737566351000000000n,
  attributes: { 'gen_ai.tool.call.arguments': `{"q":"${'x'.repeat(300)}"}` },
  status: { code: 'ERROR', message: 'timeout' },
});

describe('console span sink', () => {
  it('prints a trace as a tree, with the OTel ids, kinds, durations, status and attributes', () => {
    const text = formatSpanTree([tool, chat, root], { maxValueChars: 40 });
    expect(text).toBe(
      [
        `trace ${toTraceId('trace-1')} (litellm), langfuse trace trace-1`,
        `└─ litellm-acompletion  [INTERNAL]  2025-01-22T17:19:10.000Z  2500 ms  (span ${toSpanId(root.span)})`,
        `   │ langfuse.trace.name = "litellm-acompletion"`,
        `   │ user.id = "u-1"`,
        `   └─ chat gpt-4o  [CLIENT]  2025-01-22T17:19:10.957Z  1042.927 ms  (span ${toSpanId(chat.span)}, parent ${toSpanId(root.span)} = root)`,
        `      │ gen_ai.request.model = "gpt-4o"`,
        `      │ gen_ai.usage.input_tokens = 10`,
        `      └─ execute_tool search  [INTERNAL]  2025-01-22T17:19:11.000Z  0 ms  (span ${toSpanId(tool.span)}, parent ${toSpanId(chat.span)})  ERROR: timeout`,
        `           gen_ai.tool.call.arguments = "{\\"q\\":\\"${'x'.repeat(30)}…`,
        '',
      ].join('\n'),
    );
  });

  it('starts a tree at a span whose parent was exported in another batch, and one block per trace', () => {
    const other = makeDraft({ traceId: 'trace-2', span: { type: 'observation', id: 'gen-2' }, parent: { type: 'root', traceId: 'trace-2' } });
    const text = formatSpanTree([chat, other]);
    expect(text.split('\n').filter((line) => line.startsWith('trace '))).toEqual([
      `trace ${toTraceId('trace-1')} (litellm), langfuse trace trace-1`,
      `trace ${toTraceId('trace-2')} (litellm), langfuse trace trace-2`,
    ]);
    expect(text).toContain(`└─ chat gpt-4o  [CLIENT]`);
  });

  it('writes each export through its writer, succeeds, and is retryable once shut down', async () => {
    const written: string[] = [];
    const sink = createConsoleSpanSink({ write: (t) => written.push(t), attributeValueLengthLimit: 5 });
    expect(await exportDrafts(sink, [chat])).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(await exportDrafts(sink, [])).toEqual({ kind: 'success', rejectedSpans: 0 });
    expect(written).toHaveLength(1);
    expect(written[0]).toContain('gen_ai.request.model = "gpt-4"\n');
    await sink.shutdown();
    expect((await exportDrafts(sink, [chat])).kind).toBe('retryable');
  });
});
