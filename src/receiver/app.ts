// The Langfuse HTTP contract (DESIGN §3) on express: routes, auth, body limits, JSON answers.
// Only this layer knows express; it hands plain data to the ingest pipeline. Every answer is JSON,
// because the JS SDK gives up on a batch whose error body does not parse.
import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Tenancy } from '../config/tenants-config.js';
import type { Logger } from '../logger.js';
import type { BridgeMetrics } from '../metrics.js';
import { refusalMessage, type IngestOutcome, type IngestPipeline } from '../pipeline/ingest-pipeline.js';
import { createAuthCheck } from './basic-auth.js';
import { OTLP_TRACES_PATH, registerOtlpRoutes, SCORES_PATH } from './otlp-routes.js';
import { capErrors, tooManyEventsBody } from './ingestion-limits.js';
import { refuseBeforeBody } from './refuse-before-body.js';
import { admitTenant, rateLimitsOf, setTenant, tenantOf, tooManyRequestsBody } from './tenant-admission.js';
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

const JSON_TYPES = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

export function createApp(options: AppOptions): express.Express {
  const { pipeline, metrics, logger, version } = options;
  const maxEvents = options.maxEventsPerRequest ?? Number.POSITIVE_INFINITY;
  const maxErrors = options.maxErrorsPerResponse ?? Number.POSITIVE_INFINITY;
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

  app.post(
    '/api/public/ingestion',
    // Overloaded or stopping: refuse before reading and parsing a body that would be refused anyway.
    (req, res, next) => {
      const reason = pipeline.notAcceptingReason();
      if (!reason) return next();
      const refusal = pipeline.refusal(reason);
      res.setHeader('Retry-After', String(refusal.retryAfterSeconds));
      refuseBeforeBody(req, res, 503, refusal.body);
    },
    // Past its tenant's rate: 429 before the body is read (the SDKs and LiteLLM retry 429).
    (req, res, next) => {
      if (admitTenant(limiter, metrics, res)) return next();
      refuseBeforeBody(req, res, 429, tooManyRequestsBody(tenantOf(res).tenant), options.maxBodyBytes);
    },
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req, res) => {
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
      if (batch.length > maxEvents) {
        metrics.requestsRejected.inc({ reason: 'too_many_events' });
        return void res.status(413).json(tooManyEventsBody(batch.length, maxEvents));
      }
      const auth = tenantOf(res);
      limiter.take(auth.tenant, batch.length);
      let answer;
      try {
        // The pipeline may validate a large batch in slices, yielding to other requests between them.
        answer = await pipeline.ingest({ batch, metadata, headers: req.headers, ...(auth.scoped ? { tenant: auth.tenant } : {}) });
      } catch (error) {
        // The store could not take the batch (disk full, I/O error): nothing was acknowledged, so the
        // client may safely send it again later.
        logger.error({ err: error }, 'could not store an ingestion batch');
        metrics.requestsRejected.inc({ reason: 'store_error' });
        res.setHeader('Retry-After', '10');
        return void res.status(503).json({ error: 'ServiceUnavailableError', message: 'The bridge could not store the batch; retry later.' });
      }
      if (answer.kind === 'refused') {
        metrics.tenantRequestsRefused.inc({ tenant: auth.tenant, reason: answer.reason });
        return void sendRefusal(res, answer);
      }
      metrics.tenantEventsAccepted.inc({ tenant: auth.tenant }, answer.body.successes.length);
      res.status(207).json({ ...answer.body, errors: capErrors(answer.body.errors, maxErrors) });
    },
  );
  app.all('/api/public/ingestion', (_req, res) => {
    res.status(405).json({ error: 'MethodNotAllowedError', message: 'Method not allowed' });
  });

  registerOtlpRoutes(app, { pipeline, metrics, logger, checkAuth, limiter, maxBodyBytes: options.maxBodyBytes });

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

/** Backpressure: 503 with Retry-After, which every client retries. */
function sendRefusal(res: Response, refusal: Extract<IngestOutcome, { kind: 'refused' }>): void {
  res.setHeader('Retry-After', String(refusal.retryAfterSeconds));
  res.status(503).json(refusal.body);
}

function routeLabel(req: Request): string {
  const path = req.path;
  if (path.startsWith('/api/public/media')) return '/api/public/media';
  if (['/api/public/ingestion', '/api/public/health', '/api/public/ready', '/api/public/projects', '/metrics', OTLP_TRACES_PATH, SCORES_PATH].includes(path)) return path;
  return 'other';
}

function describeType(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
