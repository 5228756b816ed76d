// The HTTP server's own behaviour, below express: connection timeouts, the connection limit, and
// JSON answers for what Node itself would answer in plain text (malformed requests, header
// overflow, request timeouts: the 'clientError' path). Only main.ts calls it, on the listening
// server; it must not know any route.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

/**
 * Idle keep-alive connections are closed after 65 s. It must be longer than any client pool keeps
 * an idle connection, or the client may send on a connection the bridge is closing at that very
 * moment and get ECONNRESET (Node's default is 5 s):
 *  - httpx (the Langfuse Python SDK v2, hence LiteLLM's `langfuse` callback): `keepalive_expiry` 5 s;
 *  - undici / Node fetch (the Langfuse JS SDK v3): 4 s, and it honours our `Keep-Alive: timeout=65`;
 *  - requests / urllib3: no idle expiry at all, so only a long server timeout makes the race rare.
 * 65 s also outlasts the 60 s idle timeout of common load balancers (AWS ALB) placed in front.
 */
export const KEEP_ALIVE_TIMEOUT_MILLIS = 65_000;
/** Above the keep-alive timeout (nodejs/node#27363), below Node's 300 s requestTimeout. */
export const HEADERS_TIMEOUT_MILLIS = 66_000;

export interface HttpServerOptions {
  maxConnections: number;
  logger: Logger;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };

export function configureHttpServer(server: Server, options: HttpServerOptions): void {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MILLIS;
  server.headersTimeout = HEADERS_TIMEOUT_MILLIS;
  server.maxConnections = options.maxConnections;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, options.logger));
  server.on('drop', (data: unknown) => options.logger.warn({ drop: data, maxConnections: options.maxConnections }, 'connection refused: BRIDGE_MAX_CONNECTIONS reached'));
}

/** What Node does by default, but with a JSON body; a connection already gone is just closed. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger): void {
  // A response already under way cannot be replaced by another one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW' ? 413 : 400;
  const body = JSON.stringify({
    error: status === 408 ? 'RequestTimeoutError' : status === 431 ? 'RequestHeaderFieldsTooLargeError' : status === 413 ? 'PayloadTooLargeError' : 'BadRequestError',
    message: status === 408 ? 'The request was not received in time' : `Malformed HTTP request (${error.code ?? 'unknown'})`,
  });
  logger.debug({ code: error.code, status }, 'answered a malformed or slow request');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
