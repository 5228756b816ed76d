// CompletedRecord builders for the mapping-stage tests: a finished generation with its trace, a
// root, a score. Typed, with nanosecond bigints, so each test states only what it changes.
import type { CompletedObservation, CompletedRoot, CompletedScore } from '../../src/assembly/completed-record.js';

export function observationRecord(overrides: Partial<CompletedObservation['observation']> = {}): CompletedObservation {
  return {
    kind: 'observation',
    observation: {
      id: 'gen-1',
      type: 'GENERATION',
      traceId: 'trace-1',
      startTimeNanos: 1737566350957072000n,
      endTimeNanos: 1737566351234200000n,
      model: 'gpt-4o',
      input: [{ role: 'user', content: 'Hi' }],
      level: 'DEFAULT',
      environment: 'default',
      ...overrides,
    },
    trace: { id: 'trace-1', timestampNanos: 1737566350957072000n, name: 'chat', userId: 'u-1', public: false, tags: [], environment: 'default' },
    source: { sdkIntegration: 'litellm' },
  };
}

export function rootRecord(): CompletedRoot {
  return {
    kind: 'root',
    traceId: 'trace-1',
    trace: { id: 'trace-1', timestampNanos: 1737566350957072000n, name: 'chat', public: false, tags: [], environment: 'default' },
    observationsStartNanos: 1737566350957072000n,
    observationsEndNanos: 1737566351234200000n,
    observationCount: 1,
    source: {},
  };
}

export function scoreRecord(): CompletedScore {
  return {
    kind: 'score',
    score: { id: 's-1', name: 'quality', value: 1, traceId: 'trace-1', source: 'API', environment: 'default', timestampNanos: 1737566351234200000n },
    source: {},
  };
}
