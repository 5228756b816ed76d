// Per-tenant event rate limits (issue 18 "Fair under load"): one token bucket per tenant with a
// `max_events_per_second`, refilled continuously, holding at most one second of events. A request
// is let in while its tenant's bucket is above zero and then takes all its events, so a batch larger
// than the bucket still passes once and leaves a debt that refuses the next ones until it is paid:
// the average stays at the rate, whatever the batch size. Refusal comes before the body is read,
// so a flooding tenant costs the others one header check per request. Time from the injected clock.

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface TenantRateLimiter {
  /** May `tenant` send now? When not, how many whole seconds until its bucket is above zero. */
  admit(tenant: string): RateDecision;
  /** Takes `events` from `tenant`'s bucket (it may go below zero). */
  take(tenant: string, events: number): void;
}

interface Bucket {
  perMilli: number;
  capacity: number;
  tokens: number;
  atMillis: number;
}

/** `limits`: events per second by tenant name; tenants not in it are not limited. */
export function createTenantRateLimiter(limits: ReadonlyMap<string, number>, now: () => number): TenantRateLimiter {
  const buckets = new Map<string, Bucket>();
  for (const [tenant, perSecond] of limits) {
    buckets.set(tenant, { perMilli: perSecond / 1000, capacity: perSecond, tokens: perSecond, atMillis: now() });
  }
  const refill = (bucket: Bucket): void => {
    const t = now();
    if (t > bucket.atMillis) bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (t - bucket.atMillis) * bucket.perMilli);
    bucket.atMillis = Math.max(bucket.atMillis, t);
  };
  return {
    admit(tenant) {
      const bucket = buckets.get(tenant);
      if (!bucket) return { ok: true };
      refill(bucket);
      if (bucket.tokens > 0) return { ok: true };
      // Until the bucket is back above zero; at least a second (Retry-After is in whole seconds).
      const waitMillis = (-bucket.tokens + 1) / bucket.perMilli;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMillis / 1000)) };
    },
    take(tenant, events) {
      const bucket = buckets.get(tenant);
      if (!bucket || events <= 0) return;
      refill(bucket);
      bucket.tokens -= events;
    },
  };
}
