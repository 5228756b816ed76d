// Dify's price is the client's cost. A Dify workflow's LLM node is sent (api/core/ops/langfuse_trace,
// Langfuse Python SDK v2) as a generation whose metadata is the node's execution metadata
// (total_tokens, total_price as a decimal string, currency) plus the workflow's ids, with usage in
// the legacy `usage` object and the node's outputs as output. The price is never an estimate.
import { describe, expect, it } from 'vitest';
import { envelope } from '../../helpers/ingestion-events.js';
import { mapBatch, spanOfObservation } from '../../helpers/map-batch.js';

const WORKFLOW_RUN = '5d3c1a0e-8b7f-4f7e-9a51-2f0b7c9d1e11';
const NODE_EXECUTION = '0f6a8e2c-3d4b-4c5a-8e9f-1a2b3c4d5e6f';

function difyWorkflowBatch(price: { total_price?: string | number; currency?: string }) {
  return {
    batch: [
      envelope('trace-create', {
        id: WORKFLOW_RUN,
        name: 'workflow',
        userId: 'end-user-1',
        input: { 'sys.query': 'Summarise the ticket' },
        output: { answer: 'The printer is out of toner.' },
        metadata: { app_id: 'app-1', workflow_id: 'wf-1', tenant_id: 'tenant-1', workflow_run_id: WORKFLOW_RUN },
        tags: ['workflow'],
        version: '2026-11-20 10:00:00',
      }),
      envelope('generation-create', {
        id: NODE_EXECUTION,
        traceId: WORKFLOW_RUN,
        name: 'LLM',
        model: 'gpt-4o-mini',
        startTime: '2026-11-20T10:00:00.000000+00:00',
        endTime: '2026-11-20T10:00:01.250000+00:00',
        input: [{ role: 'system', text: 'You summarise tickets.', files: [] }, { role: 'user', text: 'Summarise the ticket', files: [] }],
        output: { text: 'The printer is out of toner.', finish_reason: 'stop' },
        metadata: {
          total_tokens: 123,
          ...price,
          workflow_run_id: WORKFLOW_RUN,
          node_execution_id: NODE_EXECUTION,
          tenant_id: 'tenant-1',
          app_id: 'app-1',
          node_name: 'LLM',
          node_type: 'llm',
          status: 'succeeded',
          model_provider: 'langgenius/openai/openai',
          model_name: 'gpt-4o-mini',
        },
        level: 'DEFAULT',
        statusMessage: '',
        usage: { input: 98, output: 25, total: 123, unit: 'TOKENS' },
      }),
    ],
    metadata: { batch_size: 2, sdk_integration: 'default', sdk_name: 'python', sdk_version: '2.60.10', public_key: 'pk-lf-local' },
  };
}

const generation = (price: Parameters<typeof difyWorkflowBatch>[0]) =>
  spanOfObservation(mapBatch(difyWorkflowBatch(price), 'genai', { estimateCost: true }), NODE_EXECUTION);

describe("Dify's metadata.total_price", () => {
  it('with currency USD is the cost the client sent, not an estimate', () => {
    const span = generation({ total_price: '0.0000297', currency: 'USD' });
    expect(span.attributes['gen_ai.usage.cost']).toBe(0.0000297);
    expect(span.attributes['gen_ai.usage.input_tokens']).toBe(98);
    expect(span.attributes).not.toHaveProperty('langfuse.observation.cost_estimated');
  });

  it('without a currency is taken too', () => {
    const span = generation({ total_price: '0.0000297' });
    expect(span.attributes['gen_ai.usage.cost']).toBe(0.0000297);
    expect(span.attributes).not.toHaveProperty('langfuse.observation.cost_estimated');
  });

  it('in another currency is not a USD cost: the bridge estimates (and says so)', () => {
    const span = generation({ total_price: '0.0002', currency: 'RMB' });
    expect(span.attributes['gen_ai.usage.cost']).not.toBe(0.0002);
    expect(span.attributes['langfuse.observation.cost_estimated']).toBe(true);
  });

  it('absent: an estimate marked as one (the test can tell the two apart)', () => {
    const span = generation({});
    expect(typeof span.attributes['gen_ai.usage.cost']).toBe('number');
    expect(span.attributes['langfuse.observation.cost_estimated']).toBe(true);
  });
});
