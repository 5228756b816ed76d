// Scores for a `langfuse` destination: a merged Langfuse score as the body of Langfuse's
// `POST /api/public/scores`, pointing at the ids Langfuse v4 stores for the spans the bridge
// exported (the OTel trace id and span id, see ids.ts), and one attempt to send it, reported as
// an ExportOutcome. Retrying belongs to the export worker, as for spans.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

import type { MergedScore } from '../assembly/merge.js';
import type { TlsMaterial } from '../config/tls-config.js';
import type { JsonObject } from '../ingestion/ingestion-event.js';
import { createAttemptGate } from './attempt-gate.js';
import { classifyAttempt } from './classify-attempt.js';
import type { ExportOutcome } from './export-outcome.js';
import type { QueueSink } from './span-sink.js';
import { toSpanId, toTraceId } from './ids.js';
import { postOnce } from './post-once.js';
import { tlsAgentOptions } from './tls-options.js';

/** The JSON body of one `POST /api/public/scores` (Langfuse's `PostScoresBody`). Plain data: queueable. */
export interface LangfuseScorePayload {
  /** The client's score id: Langfuse upserts by it, so a resend changes nothing. */
  id: string;
  name: string;
  value: number | string;
  dataType?: MergedScore['dataType'];
  /** The OTel trace id (32 hex) the trace's spans were exported with. */
  traceId?: string;
  /** The OTel span id (16 hex) of the scored observation's span. */
  observationId?: string;
  sessionId?: string;
  datasetRunId?: string;
  comment?: string;
  metadata?: JsonObject;
  environment: string;
  source: MergedScore['source'];
}

/**
 * The score as Langfuse v4 must receive it. Its timestamp cannot be sent (the endpoint has no such
 * field; Langfuse stamps the time it receives it). `captureContent: false` drops the comment.
 */
export function toLangfuseScorePayload(score: MergedScore, options: { captureContent: boolean; tenant?: string }): LangfuseScorePayload {
  const { tenant } = options;
  return {
    id: score.id,
    name: score.name,
    value: score.value,
    ...(score.dataType !== undefined ? { dataType: score.dataType } : {}),
    ...(score.traceId !== undefined ? { traceId: toTraceId(score.traceId, tenant) } : {}),
    ...(score.observationId !== undefined ? { observationId: toSpanId({ type: 'observation', id: score.observationId }, tenant) } : {}),
    ...(score.sessionId !== undefined ? { sessionId: score.sessionId } : {}),
    ...(score.datasetRunId !== undefined ? { datasetRunId: score.datasetRunId } : {}),
    ...(score.comment !== undefined && options.captureContent ? { comment: score.comment } : {}),
    ...(score.metadata !== undefined ? { metadata: score.metadata } : {}),
    environment: score.environment,
    source: score.source,
  };
}

/** Sends scores to one Langfuse project. */
export interface ScoreForwarder {
  /** One attempt for one score. Never rejects: every failure is an outcome. */
  send(score: LangfuseScorePayload): Promise<ExportOutcome>;
  /** Waits for attempts in flight, then closes connections; later sends are `retryable`. */
  shutdown(): Promise<void>;
}

export interface ScoreForwarderOptions {
  /** `<host>/api/public/scores`. */
  url: string;
  publicKey: string;
  secretKey: string;
  timeoutMillis: number;
  /** Extra headers of the destination (Authorization and Content-* are the forwarder's). */
  headers?: Record<string, string>;
  bridgeVersion: string;
  /** The destination's TLS material, as for its spans. */
  tls?: TlsMaterial;
}

export function createScoreForwarder(options: ScoreForwarderOptions): ScoreForwarder {
  const url = new URL(options.url);
  const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, ...tlsAgentOptions(options.tls) }) : new HttpAgent({ keepAlive: true });
  const headers: Record<string, string> = { 'User-Agent': `langfuse-otel-bridge/${options.bridgeVersion}` };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!/^(authorization|content-type|content-length|content-encoding)$/i.test(name)) headers[name] = value;
  }
  headers['Authorization'] = basicAuthorization(options.publicKey, options.secretKey);
  headers['Content-Type'] = 'application/json';
  const gate = createAttemptGate('score forwarder', agent);
  return {
    send(score) {
      const body = Buffer.from(JSON.stringify(score), 'utf8');
      return gate.run(async () => {
        const attempt = await postOnce({ url, headers, body, timeoutMillis: options.timeoutMillis, agent });
        // The answer is `{"id": …}`; only the status matters.
        return classifyAttempt(attempt, () => ({ rejectedSpans: 0 }));
      });
    },
    shutdown: () => gate.shutdown(),
  };
}

/** A score payload as the export queue holds it (JSON). */
export function encodeScorePayload(score: LangfuseScorePayload): Uint8Array {
  return Buffer.from(JSON.stringify(score), 'utf8');
}

/**
 * The queue sink of a destination's scores queue: one forwarder call per queued score, in order;
 * the first failure decides (a resend after a partial failure upserts by id in Langfuse: at least
 * once, never twice in effect).
 */
export function createScoreQueueSink(forwarder: ScoreForwarder): QueueSink {
  return {
    async send(payloads) {
      for (const payload of payloads) {
        const outcome = await forwarder.send(JSON.parse(Buffer.from(payload).toString('utf8')) as LangfuseScorePayload);
        if (outcome.kind !== 'success') return outcome;
      }
      return { kind: 'success', rejectedSpans: 0 };
    },
    shutdown: () => forwarder.shutdown(),
  };
}

/** `Basic base64(publicKey:secretKey)`, as Langfuse's public API expects. */
export function basicAuthorization(publicKey: string, secretKey: string): string {
  return `Basic ${Buffer.from(`${publicKey}:${secretKey}`, 'utf8').toString('base64')}`;
}
