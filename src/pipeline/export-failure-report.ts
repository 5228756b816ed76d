// What an export worker says about failing exports, so that a first run with nothing listening
// explains itself instead of printing a line per retry. Owns the wording and the rate of those
// log lines only: the worker still retries as before, and the metrics count every attempt.
//   - the first failure of an outage: one warning; when the backend cannot be reached at all, it
//     names what to set (the hint the composition root wrote for this destination);
//   - later failures: counted, and summed up in one warning per interval (attempts, reasons);
//   - the first success after failures: one info line, and the next outage warns afresh.
// Time comes from the injected clock; no timers (a summary is written by the failure that ends
// an interval, so at most one backoff late).
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';

export interface ExportFailureReportOptions {
  destination: string;
  logger: Logger;
  clock: Clock;
  /** What to set when the backend cannot be reached (said once per outage). */
  connectHint?: string;
  /** Repeated failures are summed over this interval. @defaultValue 60_000 */
  summaryIntervalMillis?: number;
}

export interface ExportFailureReport {
  failed(reason: string, spans: number, retryInMillis: number): void;
  succeeded(): void;
}

/** Reasons that mean nothing answered at the endpoint (as classify-attempt writes them). */
const UNREACHABLE = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)\b/;

export function createExportFailureReport(options: ExportFailureReportOptions): ExportFailureReport {
  const { destination, logger, clock, connectHint } = options;
  const intervalMillis = options.summaryIntervalMillis ?? 60_000;
  let outage = false;
  let outageAttempts = 0;
  let windowStartMillis = 0;
  let windowAttempts = 0;
  let windowReasons = new Map<string, number>();

  return {
    failed(reason, spans, retryInMillis) {
      outageAttempts++;
      if (!outage) {
        outage = true;
        windowStartMillis = clock.now();
        windowAttempts = 0;
        windowReasons = new Map();
        const retryIn = Math.round(retryInMillis);
        if (UNREACHABLE.test(reason)) {
          logger.warn(
            { destination, reason, spans, retryInMillis: retryIn },
            `cannot reach the backend of destination '${destination}'; spans wait on disk and are retried${connectHint ? `. ${connectHint}` : ''}. Repeated failures are summed up every ${Math.round(intervalMillis / 1000)} s`,
          );
        } else {
          logger.warn({ destination, reason, spans, retryInMillis: retryIn }, `export failed; will retry (repeated failures are summed up every ${Math.round(intervalMillis / 1000)} s)`);
        }
        return;
      }
      windowAttempts++;
      windowReasons.set(reason, (windowReasons.get(reason) ?? 0) + 1);
      const now = clock.now();
      if (now - windowStartMillis >= intervalMillis) {
        logger.warn(
          { destination, failedAttempts: windowAttempts, overMillis: now - windowStartMillis, reasons: Object.fromEntries(windowReasons), retryInMillis: Math.round(retryInMillis) },
          'exports still failing; will retry',
        );
        windowStartMillis = now;
        windowAttempts = 0;
        windowReasons = new Map();
      }
    },
    succeeded() {
      if (!outage) return;
      logger.info({ destination, failedAttempts: outageAttempts }, 'export recovered');
      outage = false;
      outageAttempts = 0;
    },
  };
}
