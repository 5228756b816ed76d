// The routes current Langfuse clients use (issue 9): `POST /api/public/otel/v1/traces` (OTLP/HTTP,
// protobuf or JSON, gzip or not, answered by the OTLP spec) and `POST /api/public/scores` (the
// score API of SDK v3+). Same Basic auth, body limit and backpressure as /api/public/ingestion;
// hands plain data to the converter and the ingest pipeline. Only this layer knows express.
import { randomUUID } from 'node:crypto';

import express, { type NextFunction, type Request, type Response } from 'express';

import { convertOtlpRequest } from '../ingestion/otlp-to-events.js';
import { toRequestSource } from '../ingestion/request-source.js';
import { validateBatch } from '../ingestion/validate-batch.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { AuthCheck } from './basic-auth.js';
import {
  decodeTraceRequest,
  encodeStatus,
  encodeTraceResponse,
  loadOtlpSchema,
  OtlpDecodeError,
  RPC_CODE,
  type OtlpEncoding,
} from './otlp-decode.js';
import { admitTenant, setTenant, tenantOf, tooManyRequestsBody } from './tenant-admission.js';
import type { TenantRateLimiter } from './tenant-rate-limit.js';

export const OTLP_TRACES_PATH = '/api/public/otel/v1/traces';
export const SCORES_PATH = '/api/public/scores';

export interface OtlpRouteOptions {
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

export function registerOtlpRoutes(app: express.Express, options: OtlpRouteOptions): void {
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
      const reason = pipeline.notAcceptingReason();
      if (reason) {
        const answer = pipeline.refusal(reason);
        res.setHeader('Retry-After', String(answer.retryAfterSeconds));
        return void sendStatus(res, encoding, 503, RPC_CODE.UNAVAILABLE, answer.body.message);
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
      const conversion = convertOtlpRequest(request, { headers: req.headers });
      if (conversion.rejectedSpans > 0) {
        metrics.eventsRejected.inc({ type: 'otlp-span' }, conversion.rejectedSpans);
        logger.info({ rejectedSpans: conversion.rejectedSpans, reason: conversion.errorMessage.slice(0, 500) }, 'OTLP spans rejected');
      }
      const tenant = tenantOf(res);
      const events = conversion.groups.reduce((n, g) => n + g.events.length, 0);
      limiter.take(tenant.tenant, events);
      const groups = tenant.scoped ? conversion.groups.map((g) => ({ ...g, source: { ...g.source, tenant: tenant.tenant } })) : conversion.groups;
      let answer;
      try {
        answer = await pipeline.ingestEvents(groups);
      } catch (error) {
        // Nothing was acknowledged: the client may safely send the same request again.
        logger.error({ err: error }, 'could not store an OTLP export');
        metrics.requestsRejected.inc({ reason: 'store_error' });
        res.setHeader('Retry-After', '10');
        return void sendStatus(res, encoding, 503, RPC_CODE.UNAVAILABLE, 'The bridge could not store the spans; retry later.');
      }
      if (answer.kind === 'refused') {
        metrics.tenantRequestsRefused.inc({ tenant: tenant.tenant, reason: answer.reason });
        res.setHeader('Retry-After', String(answer.retryAfterSeconds));
        return void sendStatus(res, encoding, 503, RPC_CODE.UNAVAILABLE, answer.body.message);
      }
      metrics.tenantEventsAccepted.inc({ tenant: tenant.tenant }, events);
      send(res, encoding, 200, encodeTraceResponse(encoding, conversion.rejectedSpans, conversion.errorMessage));
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

  // Langfuse's public score API: the body of a score-create event, answered with `{id}`.
  app.post(SCORES_PATH, express.raw({ type: () => true, limit: maxBodyBytes }), async (req, res) => {
    const auth = checkAuth(req.headers.authorization);
    if (!auth.ok) {
      metrics.requestsRejected.inc({ reason: 'unauthorized' });
      return void res.status(401).json({ error: 'UnauthorizedError', message: auth.message });
    }
    setTenant(res, auth);
    if (!admitTenant(limiter, metrics, res)) return void res.status(429).json(tooManyRequestsBody(auth.tenant));
    const reason = pipeline.notAcceptingReason();
    if (reason) {
      const answer = pipeline.refusal(reason);
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
      return void res.status(503).json(answer.body);
    }
    let body: unknown;
    try {
      body = JSON.parse((Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).toString('utf8'));
    } catch (error) {
      metrics.requestsRejected.inc({ reason: 'invalid_json' });
      return void res.status(400).json({ error: 'InvalidJSON', message: `Invalid JSON: ${(error as Error).message.slice(0, 200)}` });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      metrics.requestsRejected.inc({ reason: 'no_batch' });
      return void res.status(400).json({ message: 'Invalid request data', errors: ['expected a score object'] });
    }
    const given = (body as { id?: unknown }).id;
    const id = typeof given === 'string' && given !== '' ? given : randomUUID();
    const validation = validateBatch([{ id: randomUUID(), type: 'score-create', timestamp: new Date().toISOString(), body: { ...body, id } }]);
    const rejection = validation.rejected[0];
    if (rejection) {
      metrics.eventsRejected.inc({ type: 'score-create' });
      return void res.status(400).json({ message: rejection.message, error: rejection.error });
    }
    limiter.take(auth.tenant, 1);
    const source = { ...toRequestSource(undefined, req.headers), ...(auth.scoped ? { tenant: auth.tenant } : {}) };
    let answer;
    try {
      answer = await pipeline.ingestEvents([{ source, events: validation.accepted }]);
    } catch (error) {
      logger.error({ err: error }, 'could not store a score');
      metrics.requestsRejected.inc({ reason: 'store_error' });
      res.setHeader('Retry-After', '10');
      return void res.status(503).json({ error: 'ServiceUnavailableError', message: 'The bridge could not store the score; retry later.' });
    }
    if (answer.kind === 'refused') {
      metrics.tenantRequestsRefused.inc({ tenant: auth.tenant, reason: answer.reason });
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
      return void res.status(503).json(answer.body);
    }
    metrics.tenantEventsAccepted.inc({ tenant: auth.tenant });
    res.status(200).json({ id });
  });
}
