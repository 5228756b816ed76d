// Token buckets per tenant, on a driven clock: a batch larger than the bucket passes once and leaves
// a debt; Retry-After says when the bucket is above zero again; unlimited tenants are never refused.
import { describe, expect, it } from 'vitest';
import { createTenantRateLimiter } from '../../../src/receiver/tenant-rate-limit.js';

describe('createTenantRateLimiter', () => {
  it('admits while the bucket is above zero, then refuses until the debt is paid back at the rate', () => {
    let now = 1_000;
    const limiter = createTenantRateLimiter(new Map([['team-a', 100]]), () => now);
    expect(limiter.admit('team-a')).toEqual({ ok: true });
    limiter.take('team-a', 350); // 100 in the bucket: 250 owed
    expect(limiter.admit('team-a')).toEqual({ ok: false, retryAfterSeconds: 3 });
    now += 2_000; // 200 back: 50 owed
    expect(limiter.admit('team-a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 510;
    expect(limiter.admit('team-a')).toEqual({ ok: true });
    // The bucket holds one second at most, however long the tenant was quiet.
    now += 60_000;
    limiter.take('team-a', 100);
    expect(limiter.admit('team-a').ok).toBe(false);
  });

  it('keeps tenants apart and leaves tenants without a rate alone', () => {
    const limiter = createTenantRateLimiter(new Map([['team-a', 10]]), () => 0);
    limiter.take('team-a', 1_000);
    limiter.take('team-b', 1_000_000);
    expect(limiter.admit('team-a').ok).toBe(false);
    expect(limiter.admit('team-b')).toEqual({ ok: true });
  });

  it('averages the rate over time whatever the batch size', () => {
    let now = 0;
    const limiter = createTenantRateLimiter(new Map([['t', 1_000]]), () => now);
    let accepted = 0;
    for (; now < 60_000; now += 7) {
      if (limiter.admit('t').ok) {
        limiter.take('t', 130);
        accepted += 130;
      }
    }
    // 60 s at 1,000/s plus the first second's bucket and one batch of debt.
    expect(accepted).toBeGreaterThan(59_000);
    expect(accepted).toBeLessThanOrEqual(61_000 + 130);
  });
});
