// Answers a request without reading its body (401, 503): the body is never parsed, and a large one
// is not even read to its end. Express-free (plain node req/res), so any route can use it.
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Bodies up to this size are read and thrown away after the answer (cheap: no parse), which keeps a
 * keep-alive connection usable; a larger or unsized (chunked) body closes the connection instead.
 */
export const DISCARD_BODY_MAX_BYTES = 64 * 1024;

/**
 * `discardMaxBytes`: a larger sized body is not read (the connection closes). A 429 raises it to the
 * body limit: its client will send again on the same connection, and must read the 429 (a closed
 * connection mid-upload reads as a reset, not as Retry-After); reading without parsing is cheap.
 */
export function refuseBeforeBody(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, discardMaxBytes = DISCARD_BODY_MAX_BYTES): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (chunked || !(declared <= discardMaxBytes)) {
    // Node ends the connection once the answer is written; the unread rest of the body is dropped.
    res.setHeader('Connection', 'close');
    res.once('finish', () => req.socket.destroySoon());
  }
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
