import { describe, expect, it } from 'vitest';
import { toInputMessages, toOutputMessages } from '../../../src/mapping/messages.js';

describe('toInputMessages', () => {
  it('converts LiteLLM {messages} input with string contents', () => {
    expect(toInputMessages({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] })).toEqual({
      messages: [
        { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
        { role: 'user', parts: [{ type: 'text', content: 'Hi' }] },
      ],
    });
  });

  it('converts OpenAI content parts, images as uri or blob', () => {
    const result = toInputMessages([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://x/cat.png' } },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
    ]);
    expect(result?.messages[0]?.parts).toEqual([
      { type: 'text', content: 'What is this?' },
      { type: 'uri', modality: 'image', uri: 'https://x/cat.png' },
      { type: 'blob', modality: 'image', mime_type: 'image/png', content: 'AAAA' },
    ]);
  });

  it('turns assistant tool calls into tool_call parts with parsed arguments, and tool replies into responses', () => {
    const result = toInputMessages({
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":21}' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object' } } }],
    });
    expect(result?.messages[1]).toEqual({ role: 'assistant', parts: [{ type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    expect(result?.messages[2]).toEqual({ role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_1', response: '{"temp":21}' }] });
    expect(result?.toolDefinitions).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' } }]);
  });

  it('takes a separate system prompt as system instructions', () => {
    expect(toInputMessages({ system: 'You are terse.', messages: [{ role: 'user', content: 'Hi' }] })?.systemInstructions).toEqual([
      { type: 'text', content: 'You are terse.' },
    ]);
  });

  it.each([['a string', 'redacted-by-litellm'], ['an object without messages', { query: 'otel' }], ['an empty list', []], ['strings', ['a', 'b']], ['null', null]])(
    'returns undefined for %s',
    (_case, input) => {
      expect(toInputMessages(input)).toBeUndefined();
    },
  );
});

describe('toOutputMessages', () => {
  it('converts a LiteLLM response message with tool calls', () => {
    expect(
      toOutputMessages({ role: 'assistant', content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: 'not json' } }], function_call: null }, true),
    ).toEqual([{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c', name: 'f', arguments: 'not json' }], finish_reason: 'tool_call' }]);
  });

  it('uses the finish reason the client sent, in the schema spelling', () => {
    expect(toOutputMessages({ role: 'assistant', content: 'cut' }, true, ['max_tokens'])?.[0]?.finish_reason).toBe('length');
    expect(toOutputMessages({ role: 'assistant', content: 'x' }, true, ['end_turn'])?.[0]?.finish_reason).toBe('stop');
  });

  it('wraps plain text as one assistant message only when allowed', () => {
    expect(toOutputMessages('done', true)).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'done' }], finish_reason: 'stop' }]);
    expect(toOutputMessages('done', false)).toBeUndefined();
  });

  it('returns undefined for non-message output', () => {
    expect(toOutputMessages({ docs: 3 }, true)).toBeUndefined();
    expect(toOutputMessages(undefined, true)).toBeUndefined();
  });
});

describe('toInputMessages: @observe inputs of the Python SDKs', () => {
  it('reads a message list passed as the first argument, or as the messages keyword', () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    expect(toInputMessages({ args: [messages], kwargs: {} })?.messages).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Hi' }] }]);
    expect(toInputMessages({ args: [], kwargs: { messages, model: 'gpt-4o' } })?.messages).toHaveLength(1);
  });

  it('leaves other decorated calls alone', () => {
    expect(toInputMessages({ args: ['What is 2+2?'], kwargs: {} })).toBeUndefined();
    expect(toInputMessages({ args: [[1, 2]], kwargs: {} })).toBeUndefined();
  });
});
