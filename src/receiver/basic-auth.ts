// Langfuse's Basic auth check (public key : secret key) against the configured tenants, compared in
// constant time. Returns a value naming the tenant; the routes decide the status and body. Secrets
// stay here as digests: never logged, never returned, never put in a message.
import { createHash, timingSafeEqual } from 'node:crypto';

import { DEFAULT_TENANT_NAME, type Tenancy } from '../config/tenants-config.js';

export type AuthResult =
  | {
      ok: true;
      /** The tenant's name (`default` for the env pair and open mode): metric labels, rate limits. */
      tenant: string;
      /** The tenant is a boundary (the file's tenants): its name goes on the request source. */
      scoped: boolean;
    }
  | { ok: false; message: string };

export type AuthCheck = (header: string | undefined) => AuthResult;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function createAuthCheck(tenancy: Tenancy): AuthCheck {
  if (tenancy.mode === 'open') return () => ({ ok: true, tenant: DEFAULT_TENANT_NAME, scoped: false });
  const scoped = tenancy.mode === 'multi';
  // Both sides hashed: equal lengths for timingSafeEqual, and the time does not depend on the key's length.
  const expected = tenancy.tenants.map((t) => ({ name: t.name, publicKey: digest(t.publicKey), secretKey: digest(t.secretKey) }));
  return (header) => {
    if (!header) return { ok: false, message: 'No authorization header' };
    // Langfuse's prefix check is case-sensitive.
    if (!header.startsWith('Basic ')) return { ok: false, message: 'Invalid authorization header' };
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) {
      return { ok: false, message: "Invalid authorization header. Confirm that you've configured the correct host." };
    }
    const givenPublic = digest(decoded.slice(0, colon));
    const givenSecret = digest(decoded.slice(colon + 1));
    // Every tenant and both halves compared, always: the time taken tells neither which tenant
    // matched nor which half was wrong. The cost is two 32-byte comparisons per tenant.
    let match: string | undefined;
    for (const tenant of expected) {
      const publicOk = timingSafeEqual(givenPublic, tenant.publicKey);
      const secretOk = timingSafeEqual(givenSecret, tenant.secretKey);
      if (publicOk && secretOk && match === undefined) match = tenant.name;
    }
    if (match !== undefined) return { ok: true, tenant: match, scoped };
    return { ok: false, message: "Invalid credentials. Confirm that you've configured the correct host." };
  };
}
