// Who may send to the bridge (issue 18): the tenants of the BRIDGE_CONFIG file, the env pair
// LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY as the one-tenant shortcut, or nobody named (open mode).
// Owns the `tenants:` schema and its checks (unique names and keys). Pure data; never reads the
// environment or a file itself, and never puts a secret into an issue message.
import { z } from 'zod';

export interface TenantConfig {
  /** Unique; a metric label, the value of the tenant resource attribute and of `${tenant}` in headers. */
  name: string;
  publicKey: string;
  secretKey: string;
  /** Events (spans, scores) per second this tenant may send; past it, 429. Unlimited when absent. */
  maxEventsPerSecond?: number;
}

/**
 * - `open`: no keys configured, every caller is accepted (startup warns);
 * - `single`: the env pair, one tenant named {@link DEFAULT_TENANT_NAME}; spans carry no tenant and
 *   keep exactly the ids they had before tenants existed;
 * - `multi`: the file's `tenants:` list; each tenant is a boundary (entity keys, OTel ids, a
 *   resource attribute, its own export requests).
 */
export type Tenancy =
  | { mode: 'open' }
  | { mode: 'single'; tenants: [TenantConfig] }
  | { mode: 'multi'; tenants: TenantConfig[]; resourceAttribute: string };

/** The tenant of the env pair and of open mode, in metric labels. */
export const DEFAULT_TENANT_NAME = 'default';
/** The resource attribute that names a span's tenant, unless `tenant_attribute` names another. */
export const DEFAULT_TENANT_ATTRIBUTE = 'langfuse.tenant';

export const TENANT_NAME = /^[A-Za-z0-9][\w.-]{0,62}$/;
const TENANT_NAME_WORDS = 'a tenant name of letters, digits, ".", "_" and "-" (at most 63)';
const RATE_WORDS = 'a whole number of events per second, at least 1';

export const tenantSchema = z.strictObject({
  name: z.string(TENANT_NAME_WORDS).regex(TENANT_NAME, TENANT_NAME_WORDS),
  public_key: z.string('a Langfuse public key (pk-lf-…)').min(1, 'a Langfuse public key (pk-lf-…)'),
  // Usually `${env:TEAM_A_SECRET}`: an unset variable is reported by the substitution, at start.
  secret_key: z.string('a secret key, usually ${env:NAME}').min(1, 'a secret key, usually ${env:NAME}'),
  max_events_per_second: z
    .union([z.number().int(RATE_WORDS).min(1, RATE_WORDS), z.string().regex(/^[1-9]\d*$/, RATE_WORDS).transform(Number)], RATE_WORDS)
    .optional(),
});

export const tenantAttributeSchema = z.string('an attribute name such as langfuse.tenant').regex(/^[A-Za-z_][\w.-]{0,254}$/, 'an attribute name such as langfuse.tenant');

/** The `tenants:` and `tenant_attribute:` keys of the BRIDGE_CONFIG file, for its schema. */
export const tenantFileShape = {
  tenants: z.array(tenantSchema, 'a list of tenants').min(1, 'at least one tenant').optional(),
  tenant_attribute: tenantAttributeSchema.optional(),
};

type FileTenant = z.output<typeof tenantSchema>;

/** The file's tenants as config; duplicate names or public keys go to `issues` (never a secret). */
export function toTenantConfigs(file: string, tenants: readonly FileTenant[], issues: string[]): TenantConfig[] {
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  tenants.forEach((t, i) => {
    const firstName = names.get(t.name);
    if (firstName !== undefined) issues.push(`${file}: tenants[${i}].name: expected a unique name ('${t.name}' is also tenants[${firstName}].name)`);
    else names.set(t.name, i);
    // The public key is not a secret (clients send it in batch metadata), but naming the other tenant is enough.
    const firstKey = keys.get(t.public_key);
    if (firstKey !== undefined) issues.push(`${file}: tenants[${i}].public_key: expected a unique public key (tenants[${firstKey}] has the same one)`);
    else keys.set(t.public_key, i);
  });
  return tenants.map((t) => ({
    name: t.name,
    publicKey: t.public_key,
    secretKey: t.secret_key,
    ...(t.max_events_per_second !== undefined ? { maxEventsPerSecond: t.max_events_per_second } : {}),
  }));
}

/** The tenancy from the file's tenants (if any) and the env pair (if set). */
export function resolveTenancy(
  inputs: { file?: { path: string; tenants?: TenantConfig[]; attribute?: string }; envPair?: { publicKey: string; secretKey: string } },
  issues: string[],
): Tenancy {
  const { file, envPair } = inputs;
  if (file?.tenants) {
    if (envPair) {
      // An env variable silently adding a tenant beside the file's list would widen who may send.
      issues.push(`LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY cannot be combined with the tenants: list of ${file.path} (actual: both are set): declare that key pair as a tenant in the file`);
    }
    return { mode: 'multi', tenants: file.tenants, resourceAttribute: file.attribute ?? DEFAULT_TENANT_ATTRIBUTE };
  }
  if (file?.attribute !== undefined) issues.push(`${file.path}: tenant_attribute: expected a tenants: list beside it (actual: no tenants are declared)`);
  if (envPair) return { mode: 'single', tenants: [{ name: DEFAULT_TENANT_NAME, ...envPair }] };
  return { mode: 'open' };
}
