// The Langfuse HTTP contract (DESIGN §3) on express: auth, the small routes (health, ready,
// metrics, projects, media) and the last-resort error answers; the ingestion, OTLP and scores
// routes each have their own file. Only this layer knows express; it hands plain data to the
// ingest pipeline. Every answer is JSON, because the JS SDK gives up on a batch whose error body
// does not parse.
import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Tenancy } from '../config/tenants-config.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { createAuthCheck } from './basic-auth.js';
import { refusalMessage } from './http-answers.js';
import { INGESTION_PATH, registerIngestionRoute } from './ingestion-route.js';
import { OTLP_TRACES_PATH, registerOtlpTracesRoute } from './otlp-traces-route.js';
import { refuseBeforeBody } from './refuse-before-body.js';
import { registerScoresRoute, SCORES_PATH } from './scores-route.js';
import { rateLimitsOf, setTenant } from './tenant-admission.js';
import { createTenantRateLimiter } from './tenant-rate-limit.js';

export interface AppOptions {
  pipeline: IngestPipeline;
  metrics: BridgeMetrics;
  logger: Logger;
  version: string;
  /** Who may send (the tenants, the env pair, or open mode) and each tenant's event rate. */
  tenancy: Tenancy;
  /** The rate limits' time (tests drive it). @defaultValue Date.now */
  now?: () => number;
  maxBodyBytes: number;
  /** A batch with more events is refused whole (413) before any is validated. */
  maxEventsPerRequest?: number;
  /** A 207 lists at most this many errors, then one entry counting the rest. */
  maxErrorsPerResponse?: number;
}

/** Routes any caller may use; every other route, including routes registered later, needs the keys. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/api/public/health', '/api/public/ready', '/metrics']);

export function createApp(options: AppOptions): express.Express {
  const { pipeline, metrics, logger, version } = options;
  const checkAuth = createAuthCheck(options.tenancy);
  const limiter = createTenantRateLimiter(rateLimitsOf(options.tenancy), options.now ?? Date.now);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const stop = metrics.requestDuration.startTimer();
    res.on('finish', () => stop({ route: routeLabel(req), status: String(res.statusCode) }));
    next();
  });

  // Auth first, for every route but the open ones: a wrong or missing key is answered from the
  // headers alone, before any body is read or parsed (a 401 costs no parse).
  app.use((req, res, next) => {
    // The OTLP route checks auth itself, just as early, because it answers in OTLP's shape
    // (google.rpc.Status) and accepts LiteLLM's URL-quoted `Basic%20…`.
    if (OPEN_PATHS.has(req.path) || req.path === OTLP_TRACES_PATH) return next();
    const auth = checkAuth(req.headers.authorization);
    if (auth.ok) {
      setTenant(res, auth);
      return next();
    }
    metrics.requestsRejected.inc({ reason: 'unauthorized' });
    // Langfuse answers the projects route's auth failures with `message` only.
    const body = req.path === '/api/public/projects' ? { message: auth.message } : { error: 'UnauthorizedError', message: auth.message };
    refuseBeforeBody(req, res, 401, body);
  });

  app.all('/api/public/health', (_req, res) => {
    res.json({ status: 'OK', version });
  });

  app.get('/api/public/ready', (_req, res) => {
    const reason = pipeline.notAcceptingReason();
    if (reason) res.status(503).json({ status: 'Not ready', message: refusalMessage(reason), version });
    else res.json({ status: 'OK', version });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/public/projects', (_req, res) => {
    res.json({
      data: [
        {
          id: 'langfuse-otel-bridge',
          name: 'langfuse-otel-bridge',
          organization: { id: 'langfuse-otel-bridge', name: 'langfuse-otel-bridge' },
          metadata: {},
        },
      ],
    });
  });

  // Media uploads are declined (uploadUrl null), so SDKs skip them; reference strings stay as text.
  app.post('/api/public/media', express.json({ limit: '1mb' }), (req, res) => {
    const mediaId = createHash('sha256')
      .update(JSON.stringify(req.body ?? {}))
      .digest('base64url')
      .slice(0, 22);
    res.json({ uploadUrl: null, mediaId });
  });
  app.patch('/api/public/media/:mediaId', (_req, res) => {
    res.status(200).json({});
  });

  registerIngestionRoute(app, {
    pipeline,
    metrics,
    limiter,
    maxBodyBytes: options.maxBodyBytes,
    maxEventsPerRequest: options.maxEventsPerRequest ?? Number.POSITIVE_INFINITY,
    maxErrorsPerResponse: options.maxErrorsPerResponse ?? Number.POSITIVE_INFINITY,
  });
  registerOtlpTracesRoute(app, { pipeline, metrics, logger, checkAuth, limiter, maxBodyBytes: options.maxBodyBytes });
  registerScoresRoute(app, { pipeline, metrics, checkAuth, limiter, maxBodyBytes: options.maxBodyBytes });

  app.use((_req, res) => {
    res.status(404).json({ error: 'NotFoundError', message: 'Not found' });
  });

  // Last resort: body-parser errors (size, encoding) and anything unexpected, always as JSON.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    if (status === 413) {
      metrics.requestsRejected.inc({ reason: 'too_large' });
      return void res
        .status(413)
        .json({ error: 'PayloadTooLargeError', message: `Body exceeded the ${options.maxBodyBytes}-byte limit` });
    }
    if (status >= 400 && status < 500) {
      metrics.requestsRejected.inc({ reason: 'bad_body' });
      return void res.status(status).json({ error: 'BadRequestError', message: (error as Error).message?.slice(0, 200) ?? 'Bad request' });
    }
    logger.error({ err: error }, 'unexpected error while answering a request');
    res.status(500).json({ error: 'InternalServerError', message: 'Internal Server Error' });
  });
  return app;
}

function routeLabel(req: Request): string {
  const path = req.path;
  if (path.startsWith('/api/public/media')) return '/api/public/media';
  if ([INGESTION_PATH, '/api/public/health', '/api/public/ready', '/api/public/projects', '/metrics', OTLP_TRACES_PATH, SCORES_PATH].includes(path)) return path;
  return 'other';
}
