// `POST /api/public/ingestion`, Langfuse's batch route (DESIGN §3): refuses before the body when
// the bridge is not accepting, decodes the JSON body into a batch and hands it to the pipeline;
// answers the outcome (207, or 503 with Retry-After). Bad input never throws past this route.
import express, { type Request, type Response } from 'express';
import type { BridgeMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { ingestionResponseBody, markUnavailable, unavailableBody } from './http-answers.js';
import { capErrors, tooManyEventsBody } from './ingestion-limits.js';
import { refuseBeforeBody } from './refuse-before-body.js';
import { admitTenant, countTenantUnavailable, tenantOf, tooManyRequestsBody } from './tenant-admission.js';
import type { TenantRateLimiter } from './tenant-rate-limit.js';

export const INGESTION_PATH = '/api/public/ingestion';

export interface IngestionRouteOptions {
  pipeline: IngestPipeline;
  metrics: BridgeMetrics;
  /** Each tenant's max_events_per_second (429 past it). */
  limiter: TenantRateLimiter;
  maxBodyBytes: number;
  /** A batch with more events is refused whole (413) before any is validated. */
  maxEventsPerRequest: number;
  /** A 207 lists at most this many errors, then one entry counting the rest. */
  maxErrorsPerResponse: number;
}

const JSON_TYPES = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

export function registerIngestionRoute(app: express.Express, options: IngestionRouteOptions): void {
  const { pipeline, metrics, limiter } = options;
  app.post(
    INGESTION_PATH,
    // Overloaded or stopping: refuse before reading and parsing a body that would be refused anyway.
    (req, res, next) => {
      const refused = pipeline.admit();
      if (!refused) return next();
      countTenantUnavailable(metrics, res, refused);
      markUnavailable(res, refused);
      refuseBeforeBody(req, res, 503, unavailableBody(refused, 'batch'));
    },
    // Past its tenant's rate: 429 before the body is read (the SDKs and LiteLLM retry 429); the
    // body is still read (not parsed) up to the limit, so that the client reads the 429.
    (req, res, next) => {
      if (admitTenant(limiter, metrics, res)) return next();
      refuseBeforeBody(req, res, 429, tooManyRequestsBody(tenantOf(res).tenant), options.maxBodyBytes);
    },
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const contentType = req.headers['content-type'] ?? '';
      if (!JSON_TYPES.test(contentType)) {
        metrics.requestsRejected.inc({ reason: 'content_type' });
        return void res.status(400).json({
          message: 'Invalid request data',
          errors: [`Content-Type must be application/json (actual: '${contentType.slice(0, 100)}')`],
        });
      }
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let body: unknown;
      try {
        // Next.js, in front of Langfuse, reads an empty JSON body as {}.
        body = raw.length === 0 ? {} : (JSON.parse(raw.toString('utf8')) as unknown);
      } catch (error) {
        metrics.requestsRejected.inc({ reason: 'invalid_json' });
        return void res.status(400).json({ error: 'InvalidJSON', message: `Invalid JSON: ${(error as Error).message.slice(0, 200)}` });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray((body as { batch?: unknown }).batch)) {
        metrics.requestsRejected.inc({ reason: 'no_batch' });
        const batch = typeof body === 'object' && body !== null ? (body as { batch?: unknown }).batch : undefined;
        return void res.status(400).json({
          message: 'Invalid request data',
          errors: [`batch: Invalid input: expected array, received ${describeType(batch)}`],
        });
      }
      const { batch, metadata } = body as { batch: unknown[]; metadata?: unknown };
      if (batch.length > options.maxEventsPerRequest) {
        metrics.requestsRejected.inc({ reason: 'too_many_events' });
        return void res.status(413).json(tooManyEventsBody(batch.length, options.maxEventsPerRequest));
      }
      const auth = tenantOf(res);
      limiter.take(auth.tenant, batch.length);
      // The pipeline may validate a large batch in slices, yielding to other requests between them.
      const outcome = await pipeline.ingest({ batch, metadata, headers: req.headers, ...(auth.scoped ? { tenant: auth.tenant } : {}) });
      if (outcome.kind !== 'accepted') {
        countTenantUnavailable(metrics, res, outcome);
        markUnavailable(res, outcome);
        return void res.json(unavailableBody(outcome, 'batch'));
      }
      metrics.tenantEventsAccepted.inc({ tenant: auth.tenant }, outcome.accepted.length);
      const answer = ingestionResponseBody(outcome.accepted, outcome.rejected);
      res.status(207).json({ ...answer, errors: capErrors(answer.errors, options.maxErrorsPerResponse) });
    },
  );
  app.all(INGESTION_PATH, (_req, res) => {
    res.status(405).json({ error: 'MethodNotAllowedError', message: 'Method not allowed' });
  });
}

function describeType(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
