// GenAI `{role, parts}` messages as OpenInference's flattened message attributes
// (`<i>.message.role`, `<i>.message.content`, `<i>.message.tool_calls.<j>.tool_call.function.name`,
// …), as one flat object that a mapping rule with `flatten: true` prefixes with
// `llm.input_messages` / `llm.output_messages`. Pure; never throws.
import type { GenAiMessage, MessagePart } from './messages.js';

export type FlatAttributes = Record<string, string>;

export function toOpenInferenceMessages(messages: readonly GenAiMessage[] | undefined): FlatAttributes | undefined {
  if (!messages || messages.length === 0) return undefined;
  const out: FlatAttributes = {};
  messages.forEach((message, i) => {
    const at = `${i}.message`;
    out[`${at}.role`] = message.role;
    if (message.name) out[`${at}.name`] = message.name;
    const texts = message.parts.filter((p): p is Extract<MessagePart, { type: 'text' }> => p.type === 'text' && typeof p.content === 'string');
    if (texts.length > 0) out[`${at}.content`] = texts.map((p) => p.content).join('');
    let call = 0;
    for (const part of message.parts) {
      if (part.type === 'tool_call') {
        const prefix = `${at}.tool_calls.${call++}.tool_call`;
        if (typeof part.id === 'string') out[`${prefix}.id`] = part.id;
        out[`${prefix}.function.name`] = String(part.name ?? '');
        if (part.arguments !== undefined) out[`${prefix}.function.arguments`] = typeof part.arguments === 'string' ? part.arguments : JSON.stringify(part.arguments);
      } else if (part.type === 'tool_call_response') {
        if (typeof part.id === 'string') out[`${at}.tool_call_id`] = part.id;
        const response = part.response;
        if (response !== undefined && response !== null) out[`${at}.content`] = typeof response === 'string' ? response : JSON.stringify(response);
      }
    }
  });
  return out;
}

/** Tool definitions as `<i>.tool.json_schema` (for `llm.tools`). */
export function toOpenInferenceTools(tools: readonly unknown[] | undefined): FlatAttributes | undefined {
  if (!tools || tools.length === 0) return undefined;
  const out: FlatAttributes = {};
  tools.forEach((tool, i) => {
    out[`${i}.tool.json_schema`] = JSON.stringify(tool);
  });
  return out;
}
