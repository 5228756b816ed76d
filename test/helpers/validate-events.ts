// Reads validateBatch results for the ingestion tests: one event accepted (its body), or rejected
// (its issues, their paths). Envelopes come from ingestion-events.ts; imports only src/ingestion.

import { expect } from 'vitest';

import type { IngestionEvent } from '../../src/ingestion/ingestion-event.js';
import { validateBatch } from '../../src/ingestion/validate-batch.js';

export interface Issue {
  code: string;
  path: (string | number)[];
  message: string;
  [key: string]: unknown;
}

/** Validates one event and returns it, failing the test if it was not accepted. */
export function acceptOne(event: unknown): IngestionEvent {
  const result = validateBatch([event]);
  expect(result.rejected).toEqual([]);
  expect(result.accepted).toHaveLength(1);
  return result.accepted[0] as IngestionEvent;
}

/** The accepted body as a loose record, for field assertions. */
export function acceptedBody(event: unknown): Record<string, unknown> {
  return acceptOne(event).body as unknown as Record<string, unknown>;
}

/** Validates one event and returns the parsed issues, failing the test if it was accepted. */
export function rejectIssues(event: unknown): Issue[] {
  const result = validateBatch([event]);
  expect(result.accepted).toEqual([]);
  expect(result.sdkLogs).toBe(0);
  expect(result.rejected).toHaveLength(1);
  const rejection = result.rejected[0];
  if (!rejection) throw new Error('no rejection');
  return JSON.parse(rejection.error) as Issue[];
}

/** Paths of the issues, joined with dots, for compact assertions. */
export function issuePaths(issues: Issue[]): string[] {
  return issues.map((i) => i.path.join('.'));
}
