// What every one-attempt sender (OTLP span sink, Langfuse score forwarder) does around its
// attempts: tracks them so shutdown can wait for them before closing the connections, refuses new
// ones once shut down, and turns an unexpected rejection into an outcome. Knows no protocol.
import type { ExportOutcome } from './export-outcome.js';

export interface AttemptGate {
  /** Runs one attempt; `retryable` once shut down (the data is still queued) or when it throws. */
  run(attempt: () => Promise<ExportOutcome>): Promise<ExportOutcome>;
  /** Refuses new attempts, waits for those in flight, then closes the connections. */
  shutdown(): Promise<void>;
}

/** `what` names the sender in outcomes: `the span sink is shut down`. */
export function createAttemptGate(what: string, agent: { destroy(): void }): AttemptGate {
  const inFlight = new Set<Promise<ExportOutcome>>();
  let isShutDown = false;
  return {
    async run(attempt) {
      if (isShutDown) return { kind: 'retryable', reason: `the ${what} is shut down` };
      const pending = attempt().catch(
        (error: unknown): ExportOutcome => ({
          kind: 'retryable',
          reason: `unexpected export error: ${error instanceof Error ? error.message : String(error)}`,
        }),
      );
      inFlight.add(pending);
      try {
        return await pending;
      } finally {
        inFlight.delete(pending);
      }
    },
    async shutdown() {
      isShutDown = true;
      await Promise.all(inFlight);
      agent.destroy();
    },
  };
}
