// `POST /api/public/otel/v1/traces`, the route current Langfuse clients use (issue 9): OTLP/HTTP,
// protobuf or JSON, gzip or not, answered by the OTLP spec (google.rpc.Status bodies). Same Basic
// auth, body limit and backpressure as /api/public/ingestion. Decodes the body and hands the
// decoded request to the pipeline; only this layer knows express.
import express, { type NextFunction, type Request, type Response } from 'express';

import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { AuthCheck } from './basic-auth.js';
import { markUnavailable, unavailableMessage } from './http-answers.js';
import { admitTenant, countTenantUnavailable, setTenant, tenantOf, tooManyRequestsBody } from './tenant-admission.js';
import type { TenantRateLimiter } from './tenant-rate-limit.js';
import {
  decodeTraceRequest,
  encodeStatus,
  encodeTraceResponse,
  loadOtlpSchema,
  OtlpDecodeError,
  RPC_CODE,
  type OtlpEncoding,
} from './otlp-decode.js';

export const OTLP_TRACES_PATH = '/api/public/otel/v1/traces';

export interface OtlpTracesRouteOptions {
  pipeline: IngestPipeline;
  metrics: BridgeMetrics;
  logger: Logger;
  checkAuth: AuthCheck;
  /** Each tenant's max_events_per_second (429 past it). */
  limiter: TenantRateLimiter;
  maxBodyBytes: number;
}

const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

/** The encoding named by Content-Type, or undefined when OTLP/HTTP has none for it. */
function encodingOf(req: Request): OtlpEncoding | undefined {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/**
 * LiteLLM's `langfuse_otel` callback URL-quotes the header value into OTEL_EXPORTER_OTLP_HEADERS,
 * and some OTel SDK versions do not unquote it: `Basic%20<token>` is read as `Basic <token>`.
 */
function authorization(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Basic%20') ? `Basic ${header.slice('Basic%20'.length)}` : header;
}

export function registerOtlpTracesRoute(app: express.Express, options: OtlpTracesRouteOptions): void {
  const { pipeline, metrics, logger, checkAuth, limiter, maxBodyBytes } = options;
  // A broken install fails at startup, not on the first export.
  loadOtlpSchema();

  const send = (res: Response, encoding: OtlpEncoding, status: number, body: Uint8Array | string) => {
    res.status(status).type(CONTENT_TYPES[encoding]).send(typeof body === 'string' ? body : Buffer.from(body));
  };
  const sendStatus = (res: Response, encoding: OtlpEncoding, status: number, code: number, message: string) =>
    send(res, encoding, status, encodeStatus(encoding, code, message));

  app.post(
    OTLP_TRACES_PATH,
    // Refused before the body is read: overloaded or stopping, unauthorized, or an encoding OTLP
    // does not have. OTLP clients retry 503 after Retry-After.
    (req: Request, res: Response, next: NextFunction) => {
      const encoding = encodingOf(req) ?? 'json';
      const refused = pipeline.admit();
      if (refused) {
        markUnavailable(res, refused);
        return void sendStatus(res, encoding, 503, RPC_CODE.UNAVAILABLE, unavailableMessage(refused, 'spans'));
      }
      const auth = checkAuth(authorization(req));
      if (!auth.ok) {
        metrics.requestsRejected.inc({ reason: 'unauthorized' });
        return void sendStatus(res, encoding, 401, RPC_CODE.UNAUTHENTICATED, auth.message);
      }
      setTenant(res, auth);
      // OTLP/HTTP: 429 with Retry-After is retryable; every OTLP exporter retries it.
      if (!admitTenant(limiter, metrics, res)) {
        return void sendStatus(res, encoding, 429, RPC_CODE.RESOURCE_EXHAUSTED, tooManyRequestsBody(auth.tenant).message);
      }
      if (!encodingOf(req)) {
        metrics.requestsRejected.inc({ reason: 'content_type' });
        const actual = (req.headers['content-type'] ?? '').slice(0, 100);
        return void sendStatus(res, 'json', 415, RPC_CODE.INVALID_ARGUMENT, `Content-Type must be application/x-protobuf or application/json (actual: '${actual}')`);
      }
      next();
    },
    // Inflates gzip (and deflate) itself; the limit applies to the inflated body.
    express.raw({ type: () => true, limit: maxBodyBytes }),
    async (req: Request, res: Response) => {
      const encoding = encodingOf(req)!;
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let request;
      try {
        request = decodeTraceRequest(raw, encoding);
      } catch (error) {
        if (!(error instanceof OtlpDecodeError)) throw error;
        metrics.requestsRejected.inc({ reason: 'bad_body' });
        return void sendStatus(res, encoding, 400, RPC_CODE.INVALID_ARGUMENT, error.message.slice(0, 300));
      }
      const tenant = tenantOf(res);
      limiter.take(tenant.tenant, request.resourceSpans.reduce((n, rs) => rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, n), 0));
      const outcome = await pipeline.ingestOtlp(request, req.headers, tenant.scoped ? tenant.tenant : undefined);
      if (outcome.kind !== 'accepted') {
        // Nothing was acknowledged: the client may safely send the same request again.
        countTenantUnavailable(metrics, res, outcome);
        markUnavailable(res, outcome);
        return void sendStatus(res, encoding, 503, RPC_CODE.UNAVAILABLE, unavailableMessage(outcome, 'spans'));
      }
      metrics.tenantEventsAccepted.inc({ tenant: tenant.tenant }, outcome.acceptedSpans);
      send(res, encoding, 200, encodeTraceResponse(encoding, outcome.rejectedSpans, outcome.errorMessage));
    },
    // Body errors (too large, bad gzip, unknown Content-Encoding) as OTLP Status answers.
    (error: unknown, req: Request, res: Response, _next: NextFunction) => {
      const encoding = encodingOf(req) ?? 'json';
      const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
      if (status === 413) {
        metrics.requestsRejected.inc({ reason: 'too_large' });
        return void sendStatus(res, encoding, 413, RPC_CODE.RESOURCE_EXHAUSTED, `Body exceeded the ${maxBodyBytes}-byte limit`);
      }
      if (status >= 400 && status < 500) {
        metrics.requestsRejected.inc({ reason: 'bad_body' });
        return void sendStatus(res, encoding, status, RPC_CODE.INVALID_ARGUMENT, String((error as Error).message ?? 'Bad request').slice(0, 200));
      }
      logger.error({ err: error }, 'unexpected error while answering an OTLP export');
      sendStatus(res, encoding, 500, RPC_CODE.INTERNAL, 'Internal Server Error');
    },
  );
}
