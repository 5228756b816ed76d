// Converts Langfuse generation input/output (OpenAI-style chat messages, as LiteLLM and the SDKs
// send them) to the GenAI semantic-convention `{role, parts}` message form. Pure; never throws.

export type MessagePart =
  | { type: 'text'; content: string }
  | { type: 'tool_call'; id?: string; name: string; arguments?: unknown }
  | { type: 'tool_call_response'; id?: string; response: unknown }
  | { type: 'uri'; modality: string; uri: string; mime_type?: string }
  | { type: 'blob'; modality: string; mime_type?: string; content: string }
  | { type: 'reasoning'; content: string }
  | { type: string; [key: string]: unknown };

export interface GenAiMessage {
  role: string;
  parts: MessagePart[];
  name?: string;
  /** Output messages only: why the model stopped (required by the GenAI output-message schema). */
  finish_reason?: string;
}

export interface ConvertedInput {
  messages: GenAiMessage[];
  /** Instructions given apart from the history (`system` / `instructions` keys), as text parts. */
  systemInstructions?: MessagePart[];
  /** Tool definitions offered to the model (`tools` / `functions`). */
  toolDefinitions?: unknown[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isMessageLike = (v: unknown): v is Obj => isObj(v) && typeof v.role === 'string';

/**
 * Chat input: an array of messages, or an object with `messages` (LiteLLM), optionally with
 * `system`/`instructions` and `tools`/`functions`. Anything else is not chat input: `undefined`.
 */
export function toInputMessages(input: unknown): ConvertedInput | undefined {
  let list: unknown[] | undefined;
  let holder: Obj | undefined;
  const call = decoratedCall(input);
  if (call) return toInputMessages(call);
  if (Array.isArray(input)) list = input;
  else if (isObj(input) && Array.isArray(input.messages)) {
    list = input.messages;
    holder = input;
  }
  if (!list || list.length === 0 || !list.every(isMessageLike)) return undefined;
  const result: ConvertedInput = { messages: list.map(toMessage) };
  const system = holder?.system ?? holder?.instructions ?? holder?.system_instruction;
  if (system !== undefined) {
    const parts = toParts(system).filter((p) => p.type === 'text');
    if (parts.length > 0) result.systemInstructions = parts;
  }
  const tools = holder?.tools ?? holder?.functions;
  if (Array.isArray(tools) && tools.length > 0) result.toolDefinitions = tools.map(toToolDefinition);
  return result;
}

/**
 * What the Langfuse Python SDKs' `@observe` records as a function's input: `{args: [...], kwargs:
 * {...}}`. A call whose first argument is a message list, or with a `messages` keyword, is a chat
 * input; the list (with the keywords around it, for tools and system) is what is converted.
 */
function decoratedCall(input: unknown): unknown {
  if (!isObj(input) || !Array.isArray(input.args) || !isObj(input.kwargs) || Object.keys(input).length !== 2) return undefined;
  const kwargs = input.kwargs;
  if (Array.isArray(kwargs.messages)) return kwargs;
  const first = input.args[0];
  if (Array.isArray(first) && first.length > 0 && first.every(isMessageLike)) return { ...kwargs, messages: first };
  return undefined;
}

/**
 * Chat output: one message object, a list of them, a `{text, …}` result (Dify's LLM node:
 * `{text, usage, finish_reason}`) or (for completions) a plain string. Each message gets the
 * `finish_reason` the schema requires: the one the client sent for that choice, else
 * `tool_call` when it calls tools, else `stop`.
 */
export function toOutputMessages(output: unknown, allowPlainText: boolean, finishReasons?: readonly string[]): GenAiMessage[] | undefined {
  const messages = toOutputMessageList(output, allowPlainText);
  if (!messages) return undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const sent = finishReasons?.[i] ?? (messages.length === 1 ? finishReasons?.[0] : undefined);
    // The list's messages are made here (never the client's own objects), so the reason is set on
    // them, last key as before, instead of each being copied: the copy was ~1% of bench/map-encode.mjs.
    message.finish_reason = sent !== undefined ? toSchemaFinishReason(sent) : message.parts.some((p) => p.type === 'tool_call') ? 'tool_call' : 'stop';
  }
  return messages;
}

function toOutputMessageList(output: unknown, allowPlainText: boolean): GenAiMessage[] | undefined {
  if (typeof output === 'string') {
    return allowPlainText ? [{ role: 'assistant', parts: [{ type: 'text', content: output }] }] : undefined;
  }
  if (Array.isArray(output) && output.length > 0 && output.every(isMessageLike)) return output.map(toMessage);
  if (isObj(output) && (typeof output.role === 'string' || 'content' in output || 'tool_calls' in output)) {
    return [toMessage({ role: 'assistant', ...output, ...(typeof output.role === 'string' ? {} : { role: 'assistant' }) })];
  }
  if (isObj(output) && typeof output.text === 'string') return [{ role: 'assistant', parts: [{ type: 'text', content: output.text }] }];
  return undefined;
}

/** Provider spellings → the output-message schema's values (stop, length, content_filter, tool_call, error). */
const SCHEMA_FINISH_REASONS: Readonly<Record<string, string>> = {
  stop: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  eos: 'stop',
  length: 'length',
  max_tokens: 'length',
  model_length: 'length',
  content_filter: 'content_filter',
  safety: 'content_filter',
  recitation: 'content_filter',
  tool_calls: 'tool_call',
  tool_call: 'tool_call',
  tool_use: 'tool_call',
  function_call: 'tool_call',
  error: 'error',
};

function toSchemaFinishReason(reason: string): string {
  return SCHEMA_FINISH_REASONS[reason.toLowerCase()] ?? reason;
}

/**
 * Finish reasons as the client sent them, one per choice: `finish_reason`/`stop_reason` of the
 * output (Dify, Anthropic-shaped), `choices[].finish_reason` (a whole response), or metadata.
 */
export function toFinishReasons(output: unknown, metadata: unknown): string[] | undefined {
  const one = (holder: unknown): string | undefined => {
    if (!isObj(holder)) return undefined;
    const value = holder.finish_reason ?? holder.finishReason ?? holder.stop_reason;
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  if (isObj(output) && Array.isArray(output.choices)) {
    const reasons = output.choices.map(one).filter((r): r is string => r !== undefined);
    if (reasons.length > 0) return reasons;
  }
  if (Array.isArray(output)) {
    const reasons = output.map(one);
    if (reasons.length > 0 && reasons.every((r) => r !== undefined)) return reasons as string[];
  }
  const single = one(output) ?? one(metadata);
  if (single) return [single];
  const list = isObj(metadata) ? metadata.finish_reasons : undefined;
  return Array.isArray(list) && list.length > 0 && list.every((r) => typeof r === 'string') ? (list as string[]) : undefined;
}

function toMessage(message: Obj): GenAiMessage {
  const role = String(message.role);
  const parts: MessagePart[] = [];
  if (role === 'tool' || role === 'function') {
    parts.push({
      type: 'tool_call_response',
      ...(typeof message.tool_call_id === 'string' ? { id: message.tool_call_id } : {}),
      response: message.content ?? null,
    });
  } else {
    parts.push(...toParts(message.content));
    if (typeof message.reasoning_content === 'string' && message.reasoning_content) {
      parts.unshift({ type: 'reasoning', content: message.reasoning_content });
    }
  }
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) if (isObj(call)) parts.push(toToolCall(call));
  }
  if (isObj(message.function_call)) parts.push(toToolCall({ function: message.function_call }));
  const out: GenAiMessage = { role: role === 'function' ? 'tool' : role, parts };
  if (typeof message.name === 'string' && message.name) out.name = message.name;
  return out;
}

function toParts(content: unknown): MessagePart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return [{ type: 'text', content }];
  if (Array.isArray(content)) return content.flatMap((item) => (typeof item === 'string' ? [{ type: 'text', content: item }] : toContentPart(item)));
  return toContentPart(content);
}

function toContentPart(item: unknown): MessagePart[] {
  if (!isObj(item)) return [{ type: 'text', content: JSON.stringify(item) }];
  const type = typeof item.type === 'string' ? item.type : undefined;
  if ((type === 'text' || type === 'input_text' || type === 'output_text') && typeof item.text === 'string') {
    return [{ type: 'text', content: item.text }];
  }
  if (type === 'image_url' || type === 'input_image') {
    const url = isObj(item.image_url) ? item.image_url.url : (item.image_url ?? item.url);
    if (typeof url === 'string') return [toUriOrBlob(url, 'image')];
  }
  if (type === 'input_audio' && isObj(item.input_audio) && typeof item.input_audio.data === 'string') {
    const format = typeof item.input_audio.format === 'string' ? item.input_audio.format : undefined;
    return [{ type: 'blob', modality: 'audio', ...(format ? { mime_type: `audio/${format}` } : {}), content: item.input_audio.data }];
  }
  if ((type === 'thinking' || type === 'reasoning') && typeof (item.thinking ?? item.text) === 'string') {
    return [{ type: 'reasoning', content: String(item.thinking ?? item.text) }];
  }
  if (type === 'tool_use') return [toToolCall({ id: item.id, function: { name: item.name, arguments: item.input } })];
  if (type === 'tool_result') {
    return [{ type: 'tool_call_response', ...(typeof item.tool_use_id === 'string' ? { id: item.tool_use_id } : {}), response: item.content ?? null }];
  }
  if (typeof item.text === 'string') return [{ type: 'text', content: item.text }];
  // Unknown part types are kept whole as a generic part (the schema allows any other `type`).
  return [{ ...item, type: type ?? 'generic' }];
}

function toUriOrBlob(url: string, modality: string): MessagePart {
  const data = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (data) return { type: 'blob', modality, ...(data[1] ? { mime_type: data[1] } : {}), content: data[2] ?? '' };
  return { type: 'uri', modality, uri: url };
}

function toToolCall(call: Obj): MessagePart {
  const fn = isObj(call.function) ? call.function : call;
  return {
    type: 'tool_call',
    ...(typeof call.id === 'string' ? { id: call.id } : {}),
    name: typeof fn.name === 'string' ? fn.name : '',
    arguments: parseArguments(fn.arguments),
  };
}

/** Tool arguments are objects in the GenAI schema; OpenAI sends a JSON string. Best effort. */
function parseArguments(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function toToolDefinition(tool: unknown): unknown {
  if (!isObj(tool)) return tool;
  const fn = isObj(tool.function) ? tool.function : tool;
  if (typeof fn.name !== 'string') return tool;
  return {
    type: typeof tool.type === 'string' ? tool.type : 'function',
    name: fn.name,
    ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
    ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
  };
}
