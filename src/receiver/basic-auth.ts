// Langfuse's Basic auth check (public key : secret key), compared in constant time.
// Returns a value; the routes decide the status and body.
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = { ok: true } | { ok: false; message: string };

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** `null` credentials: open mode, every caller is accepted. */
export function createAuthCheck(credentials: { publicKey: string; secretKey: string } | null): (header: string | undefined) => AuthResult {
  if (!credentials) return () => ({ ok: true });
  const expectedPublic = digest(credentials.publicKey);
  const expectedSecret = digest(credentials.secretKey);
  return (header) => {
    if (!header) return { ok: false, message: 'No authorization header' };
    // Langfuse's prefix check is case-sensitive.
    if (!header.startsWith('Basic ')) return { ok: false, message: 'Invalid authorization header' };
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) {
      return { ok: false, message: "Invalid authorization header. Confirm that you've configured the correct host." };
    }
    // Both compared, always: the time taken does not tell which half was wrong.
    const publicOk = timingSafeEqual(digest(decoded.slice(0, colon)), expectedPublic);
    const secretOk = timingSafeEqual(digest(decoded.slice(colon + 1)), expectedSecret);
    if (publicOk && secretOk) return { ok: true };
    return { ok: false, message: "Invalid credentials. Confirm that you've configured the correct host." };
  };
}
