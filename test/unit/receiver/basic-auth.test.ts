// The Basic auth check against tenants: each tenant's own pair, the env pair's `default`, open mode.
import { describe, expect, it } from 'vitest';
import { createAuthCheck } from '../../../src/receiver/basic-auth.js';

const basic = (pk: string, sk: string) => `Basic ${Buffer.from(`${pk}:${sk}`).toString('base64')}`;

describe('createAuthCheck', () => {
  const check = createAuthCheck({
    mode: 'multi',
    resourceAttribute: 'langfuse.tenant',
    tenants: [
      { name: 'team-a', publicKey: 'pk-lf-a', secretKey: 'sk-lf-a' },
      { name: 'team-b', publicKey: 'pk-lf-b', secretKey: 'sk-lf-b' },
    ],
  });

  it('names the tenant whose pair matched, as a boundary', () => {
    expect(check(basic('pk-lf-a', 'sk-lf-a'))).toEqual({ ok: true, tenant: 'team-a', scoped: true });
    expect(check(basic('pk-lf-b', 'sk-lf-b'))).toEqual({ ok: true, tenant: 'team-b', scoped: true });
  });

  it('refuses an unknown pair, and one tenant\'s public key with another\'s secret, without echoing either', () => {
    for (const header of [basic('pk-lf-c', 'sk-lf-c'), basic('pk-lf-a', 'sk-lf-b'), basic('pk-lf-b', 'sk-lf-a')]) {
      const result = check(header);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toMatch(/sk-lf|pk-lf/);
    }
  });

  it('the env pair is tenant default, not a boundary; open mode takes anyone as default', () => {
    const single = createAuthCheck({ mode: 'single', tenants: [{ name: 'default', publicKey: 'pk', secretKey: 'sk' }] });
    expect(single(basic('pk', 'sk'))).toEqual({ ok: true, tenant: 'default', scoped: false });
    expect(single(basic('pk', 'nope')).ok).toBe(false);
    expect(createAuthCheck({ mode: 'open' })(undefined)).toEqual({ ok: true, tenant: 'default', scoped: false });
  });
});
