// Langfuse's `environment` normalization (the public schema's rule). Pure; owns nothing else and
// must not import later stages.

export const DEFAULT_ENVIRONMENT = 'default';

const ENVIRONMENT_NAME = /^[a-z0-9-_]+$/;
const MAX_ENVIRONMENT_LENGTH = 40;

/**
 * Normalizes an environment exactly like a Langfuse **v3** server (tag v3.225.4): lowercase, strip
 * ONE leading `langfuse` prefix with an optional `-` or `_`, cut to 40 characters, and fall back to
 * `"default"` when the result is empty or not `[a-z0-9-_]+`. Non-strings, `null` and absence give
 * `"default"`: the field never fails validation.
 *
 * v3 rather than v4 (which strips every repeated prefix) because the bridge mimics v3 throughout;
 * they differ only for inputs like `"langfuse-langfuse-x"` (v3 → `langfuse-x`, v4 → `x`).
 */
export function normalizeEnvironment(value: unknown): string {
  if (typeof value !== 'string') return DEFAULT_ENVIRONMENT;
  const stripped = value.toLowerCase().replace(/^langfuse[-_]?/, '');
  const cut = stripped.slice(0, MAX_ENVIRONMENT_LENGTH);
  return cut.length > 0 && ENVIRONMENT_NAME.test(cut) ? cut : DEFAULT_ENVIRONMENT;
}
