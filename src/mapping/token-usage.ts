// The token usage of one model call, in the semconv's terms: what record-view.ts derives from an
// observation and cost-estimate.ts prices. A type only, shared by both.
export interface TokenUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_write_input_tokens?: number;
  reasoning_output_tokens?: number;
  total_tokens?: number;
}
