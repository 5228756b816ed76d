// The tenant of an authenticated request, as the routes read it (`res.locals`), and its admission
// against its rate limit: Retry-After and the refusal counted here, the 429 answered by each route in
// its own shape (JSON for the Langfuse routes, an OTLP Status for the OTLP route).
import type { Response } from 'express';

import type { Tenancy } from '../config/tenants-config.js';
import type { BridgeMetrics } from '../metrics.js';
import type { AuthResult } from './basic-auth.js';
import type { TenantRateLimiter } from './tenant-rate-limit.js';

/** `max_events_per_second` of each tenant that has one. */
export function rateLimitsOf(tenancy: Tenancy): Map<string, number> {
  const limits = new Map<string, number>();
  if (tenancy.mode === 'open') return limits;
  for (const tenant of tenancy.tenants) if (tenant.maxEventsPerSecond !== undefined) limits.set(tenant.name, tenant.maxEventsPerSecond);
  return limits;
}

/** Records the tenant an auth check found, for the route that answers. */
export function setTenant(res: Response, auth: Extract<AuthResult, { ok: true }>): void {
  res.locals['auth'] = auth;
}

/** The tenant the auth check found (set on every authenticated route). */
export function tenantOf(res: Response): Extract<AuthResult, { ok: true }> {
  return res.locals['auth'] as Extract<AuthResult, { ok: true }>;
}

/**
 * Whether the request's tenant is under its rate; when not, sets Retry-After and counts the
 * refusal (the caller answers 429 in its route's shape).
 */
export function admitTenant(limiter: TenantRateLimiter, metrics: BridgeMetrics, res: Response): boolean {
  const decision = limiter.admit(tenantOf(res).tenant);
  if (decision.ok) return true;
  res.setHeader('Retry-After', String(decision.retryAfterSeconds));
  metrics.requestsRejected.inc({ reason: 'rate_limit' });
  metrics.tenantRequestsRefused.inc({ tenant: tenantOf(res).tenant, reason: 'rate_limit' });
  return false;
}

/** Counts a 503 (refused, or the store failed) against the request's tenant. */
export function countTenantUnavailable(metrics: BridgeMetrics, res: Response, outcome: { kind: 'refused'; reason: string } | { kind: 'store_failed' }): void {
  metrics.tenantRequestsRefused.inc({ tenant: tenantOf(res).tenant, reason: outcome.kind === 'refused' ? outcome.reason : 'store_error' });
}

export function tooManyRequestsBody(tenant: string): { error: string; message: string } {
  return { error: 'TooManyRequestsError', message: `tenant '${tenant}' is over its max_events_per_second; retry after Retry-After` };
}
