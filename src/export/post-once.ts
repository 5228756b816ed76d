// One HTTP POST of an encoded OTLP request, with a deadline, reported as a value. It never
// retries (the export worker owns retries) and never rejects; it knows nothing of spans.

import { request as httpRequest } from 'node:http';
import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Agent as HttpsAgent } from 'node:https';

/** What happened to one POST. */
export type HttpAttempt =
  | {
      kind: 'response';
      statusCode: number;
      headers: IncomingHttpHeaders;
      /** The body read so far; at most {@link MAX_RESPONSE_BODY_BYTES}. */
      body: Buffer;
      /** False when the body was cut at the size cap, the deadline or a connection error. */
      bodyComplete: boolean;
    }
  | {
      kind: 'network-error';
      code?: string;
      message: string;
      /** The connection was opened by this attempt and its TLS handshake had completed: a reset then is the server refusing the client (a Node server refuses a client certificate that way, with no alert). */
      afterTlsHandshake?: boolean;
    }
  | { kind: 'timeout'; timeoutMillis: number };

export interface PostRequest {
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array;
  /** Deadline for the whole attempt: connect, send, and read the response. */
  timeoutMillis: number;
  agent: HttpAgent | HttpsAgent;
}

/** The OTLP spec tells clients to cap responses at 4 MiB; the status alone decides the outcome. */
export const MAX_RESPONSE_BODY_BYTES = 4 * 1024 * 1024;

/** Sends `body` once. Always resolves; a response that started before the deadline is returned. */
export function postOnce(post: PostRequest): Promise<HttpAttempt> {
  return new Promise<HttpAttempt>((resolve) => {
    let settled = false;
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let bodyBytes = 0;

    const settle = (attempt: HttpAttempt): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(attempt);
    };
    const settleWithResponse = (bodyComplete: boolean): void => {
      if (!response) return;
      settle({
        kind: 'response',
        statusCode: response.statusCode ?? 0,
        headers: response.headers,
        body: Buffer.concat(chunks),
        bodyComplete,
      });
    };

    const send = post.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(post.url, {
      method: 'POST',
      agent: post.agent,
      headers: { ...post.headers, 'Content-Length': String(post.body.byteLength) },
    });

    // req.setTimeout is an idle timeout; a server trickling bytes could outlast it, so the
    // deadline is a plain timer over the whole attempt.
    const deadline = setTimeout(() => {
      if (response) settleWithResponse(false);
      else settle({ kind: 'timeout', timeoutMillis: post.timeoutMillis });
      req.destroy();
    }, post.timeoutMillis);

    let handshakeDone = false;
    req.on('socket', (socket) => {
      // Only a connection this attempt opens: a reused keep-alive socket says nothing about TLS.
      if ('encrypted' in socket && socket.connecting) socket.once('secureConnect', () => (handshakeDone = true));
    });

    req.on('response', (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = MAX_RESPONSE_BODY_BYTES - bodyBytes;
        if (chunk.byteLength > room) {
          chunks.push(chunk.subarray(0, room));
          settleWithResponse(false);
          res.destroy();
          return;
        }
        chunks.push(chunk);
        bodyBytes += chunk.byteLength;
      });
      res.on('end', () => settleWithResponse(true));
      res.on('error', () => settleWithResponse(false));
      res.on('aborted', () => settleWithResponse(false));
    });

    req.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the status line arrived still has a status to classify.
      if (response) {
        settleWithResponse(false);
        return;
      }
      settle({
        kind: 'network-error',
        ...(error.code === undefined ? {} : { code: error.code }),
        message: error.message,
        ...(handshakeDone ? { afterTlsHandshake: true } : {}),
      });
    });

    req.end(post.body);
  });
}
