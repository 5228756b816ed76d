// LiteLLM-shaped ingestion bodies for the benchmarks, without vitest or the TypeScript sources:
// the same events as test/helpers/litellm-traffic.ts (one trace-create + one generation-create per
// call, about 950 bytes per event, ids unique per run), cut from one event stream into batches of
// any size (a call's two events may fall into two batches, as with an SDK that flushes by count).
// Owns body text only; knows nothing of the bridge or of HTTP.

const PROMPT_TAIL = 'the customer reports that the export stopped working after the upgrade; '.repeat(3);
const ANSWER_TAIL = 'export broke after the upgrade, a rollback fixed it; '.repeat(3);

// Placeholders: "##name##" (a whole JSON string) becomes a raw value (a number); @@name@@ is
// replaced inside a string. Templates are built once; a body is then string concatenation, so
// the load generator spends its core on sending, not on JSON.stringify.
function compile(event) {
  const parts = JSON.stringify(event).split(/"##(\w+)##"|@@(\w+)@@/);
  // split with two groups: [text, rawName|undefined, textName|undefined, text, ...]
  const pieces = [];
  for (let i = 0; i < parts.length; i += 3) {
    pieces.push({ text: parts[i] });
    if (i + 1 < parts.length) pieces.push({ name: parts[i + 1] ?? parts[i + 2] });
  }
  return (values) => {
    let out = '';
    for (const piece of pieces) out += piece.text ?? values[piece.name];
    return out;
  };
}

const traceEvent = compile({
  id: '@@run@@-ev-@@i@@-t',
  type: 'trace-create',
  timestamp: '@@at@@',
  body: {
    id: 'litellm-@@run@@-trace-@@i@@',
    timestamp: '@@at@@',
    name: 'litellm-acompletion',
    userId: 'user-@@m17@@',
    sessionId: 'session-@@m5@@',
    input: { messages: [{ role: 'user', content: `Summarise ticket #@@i@@: @@promptTail@@` }] },
    output: { content: `Ticket #@@i@@: @@answerTail@@`, role: 'assistant', tool_calls: null, function_call: null },
    metadata: { run: '@@run@@', call: '##iRaw##' },
    tags: ['durability', 'shard-@@m3@@'],
  },
});

const generationEvent = compile({
  id: '@@run@@-ev-@@i@@-g',
  type: 'generation-create',
  timestamp: '@@at@@',
  body: {
    id: 'time-@@run@@-@@i@@_chatcmpl-@@hex@@',
    traceId: 'litellm-@@run@@-trace-@@i@@',
    name: 'litellm-acompletion',
    startTime: '@@start@@',
    endTime: '@@end@@',
    completionStartTime: '@@first@@',
    model: 'gpt-4o-mini',
    modelParameters: { temperature: '0.2', max_tokens: 256, stream: false },
    input: { messages: [{ role: 'user', content: `Summarise ticket #@@i@@: @@promptTail@@` }] },
    output: { content: `Ticket #@@i@@: @@answerTail@@`, role: 'assistant', tool_calls: null, function_call: null },
    usage: { input: '##in##', output: '##out##', unit: 'TOKENS', totalCost: 0.000035 },
    usageDetails: { input: '##in##', output: '##out##' },
    metadata: {
      hidden_params: { api_base: 'https://api.openai.com', response_cost: 0.000035, litellm_model_name: 'gpt-4o-mini' },
      litellm_response_cost: 0.000035,
      cache_hit: false,
      requester_metadata: {},
    },
    level: 'DEFAULT',
  },
});

function iso(millis) {
  // Microsecond digits, as the Python SDK writes them.
  return new Date(millis).toISOString().replace('Z', `${String(millis % 997).padStart(3, '0')}Z`);
}

/** The text of event `n` of the stream (even: a call's trace-create, odd: its generation). */
function eventText(run, n, times, tails) {
  const i = Math.floor(n / 2);
  const values = {
    run,
    i: String(i),
    iRaw: String(i),
    hex: i.toString(16).padStart(8, '0'),
    m17: String(i % 17),
    m5: String(i % 5),
    m3: String(i % 3),
    in: String(120 + (i % 50)),
    out: String(40 + (i % 30)),
    ...times,
    ...tails,
  };
  return n % 2 === 0 ? traceEvent(values) : generationEvent(values);
}

/**
 * A stream of bodies: `next(events)` returns the next `events` events of the stream as one
 * ingestion body (timestamps: now). `run` keeps ids unique across runs and bridges.
 */
export function createBodyStream(run = `r${Math.floor(Math.random() * 36 ** 6).toString(36)}`, { messageBytes } = {}) {
  let n = 0;
  // `messageBytes`: the prompt and the answer padded to this many bytes each (large payloads).
  const pad = (tail) => (messageBytes ? tail.repeat(Math.ceil(messageBytes / tail.length)).slice(0, messageBytes) : tail);
  const tails = { promptTail: pad(PROMPT_TAIL), answerTail: pad(ANSWER_TAIL) };
  return {
    run,
    get eventsMade() {
      return n;
    },
    next(events) {
      const at = Date.now();
      const times = { at: iso(at), start: iso(at - 900), end: iso(at - 100), first: iso(at - 400) };
      const texts = [];
      for (let k = 0; k < events; k++) texts.push(eventText(run, n++, times, tails));
      return `{"batch":[${texts.join(',')}],"metadata":{"sdk_name":"python","sdk_version":"2.44.1","sdk_integration":"litellm","batch_size":${events}}}`;
    },
  };
}
