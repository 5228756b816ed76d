// `POST /api/public/scores`, the score API of SDK v3+: same Basic auth, body limit and
// backpressure as the ingestion route. Decodes the JSON body and hands it to the pipeline, which
// builds and validates the score; answers `{id}`, 400, or 503 with Retry-After.
import express from 'express';
import type { BridgeMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { AuthCheck } from './basic-auth.js';
import { markUnavailable, unavailableBody } from './http-answers.js';
import { admitTenant, countTenantUnavailable, setTenant, tooManyRequestsBody } from './tenant-admission.js';
import type { TenantRateLimiter } from './tenant-rate-limit.js';

export const SCORES_PATH = '/api/public/scores';

export interface ScoresRouteOptions {
  pipeline: IngestPipeline;
  metrics: BridgeMetrics;
  checkAuth: AuthCheck;
  /** Each tenant's max_events_per_second (429 past it). */
  limiter: TenantRateLimiter;
  maxBodyBytes: number;
}

export function registerScoresRoute(app: express.Express, options: ScoresRouteOptions): void {
  const { pipeline, metrics, checkAuth, limiter } = options;
  app.post(SCORES_PATH, express.raw({ type: () => true, limit: options.maxBodyBytes }), async (req, res) => {
    const auth = checkAuth(req.headers.authorization);
    if (!auth.ok) {
      metrics.requestsRejected.inc({ reason: 'unauthorized' });
      return void res.status(401).json({ error: 'UnauthorizedError', message: auth.message });
    }
    setTenant(res, auth);
    if (!admitTenant(limiter, metrics, res)) return void res.status(429).json(tooManyRequestsBody(auth.tenant));
    const refused = pipeline.admit();
    if (refused) {
      countTenantUnavailable(metrics, res, refused);
      markUnavailable(res, refused);
      return void res.json(unavailableBody(refused, 'score'));
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
    limiter.take(auth.tenant, 1);
    const outcome = await pipeline.ingestScore(body as Record<string, unknown>, req.headers, auth.scoped ? auth.tenant : undefined);
    switch (outcome.kind) {
      case 'accepted':
        metrics.tenantEventsAccepted.inc({ tenant: auth.tenant });
        return void res.status(200).json({ id: outcome.id });
      case 'invalid':
        return void res.status(400).json({ message: outcome.message, error: outcome.error });
      default:
        countTenantUnavailable(metrics, res, outcome);
        markUnavailable(res, outcome);
        res.json(unavailableBody(outcome, 'score'));
    }
  });
}
