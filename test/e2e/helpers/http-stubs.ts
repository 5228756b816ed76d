/**
 * Tiny loopback HTTP servers used by the e2e tests:
 * - a recording stand-in for Langfuse (what does a client send?);
 * - an OTLP/HTTP sink standing in for Grafana Tempo (records what the collector sends);
 * - a forwarding proxy in front of the bridge that can answer chosen requests itself (e.g. a
 *   503 to the first ingestion POST, to exercise the SDK's retry against the real bridge).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Status the stub/proxy answered with. */
  status?: number;
  /** Response headers the proxy passed on (lower-case names). */
  responseHeaders?: Record<string, string>;
}

export interface StubServer {
  url: string;
  port: number;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Accepts OTLP/HTTP exports (any path) with 200 and an empty protobuf/JSON response. */
export async function startOtlpSink(): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, status: 200 });
      const json = String(req.headers['content-type'] ?? '').includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : Buffer.alloc(0));
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, requests, close: () => closeServer(server) };
}

export interface InterceptDecision {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/**
 * A forwarding proxy to `target`. `intercept(req, index)` may answer a request itself
 * (returning a decision) instead of forwarding it; `index` counts requests to the same
 * method+path so far (0-based).
 */
export async function startInterceptingProxy(
  target: string,
  intercept: (req: RecordedRequest, index: number) => InterceptDecision | undefined,
): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      const key = `${rec.method} ${rec.url.split('?')[0]}`;
      const index = counts.get(key) ?? 0;
      counts.set(key, index + 1);
      const decision = intercept(rec, index);
      if (decision !== undefined) {
        rec.status = decision.status;
        res.writeHead(decision.status, { 'content-type': 'application/json', ...decision.headers });
        res.end(decision.body);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)) continue;
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      try {
        const upstream = await fetch(target + rec.url, {
          method: rec.method,
          headers,
          body: ['GET', 'HEAD'].includes(rec.method) ? undefined : body,
        });
        const text = Buffer.from(await upstream.arrayBuffer());
        rec.status = upstream.status;
        const outHeaders: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(k)) outHeaders[k] = v;
        });
        rec.responseHeaders = outHeaders;
        res.writeHead(upstream.status, outHeaders);
        res.end(text);
      } catch (err) {
        rec.status = 502;
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'BadGateway', message: String(err) }));
      }
    })();
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, requests, close: () => closeServer(server) };
}

/**
 * A stand-in for a Langfuse server that records every request (method, path, headers, body)
 * and answers what a client needs to carry on: the project list for LiteLLM's start-up
 * check, an empty ExportTraceServiceResponse (protobuf or JSON, as asked) for OTLP, 207 with
 * every event a success for an ingestion batch, `{id}` for a score, 200 `{}` for anything else. Used to record
 * what a client sends before any bridge is involved.
 */
export async function startCaptureServer(): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    void readBody(req).then((body) => {
      const rec: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(rec);
      const path = rec.url.split('?')[0]!;
      const json = !String(req.headers['content-type'] ?? '').includes('protobuf');
      let answer: { status: number; type: string; body: string | Buffer };
      if (path === '/api/public/projects') {
        answer = { status: 200, type: 'application/json', body: JSON.stringify({ data: [{ id: 'e2e-project', name: 'e2e', metadata: {} }] }) };
      } else if (path === '/api/public/otel/v1/traces') {
        answer = json ? { status: 200, type: 'application/json', body: '{}' } : { status: 200, type: 'application/x-protobuf', body: Buffer.alloc(0) };
      } else if (path === '/api/public/scores' && rec.method === 'POST') {
        const score = JSON.parse(body.toString('utf8') || '{}') as { id?: string };
        answer = { status: 200, type: 'application/json', body: JSON.stringify({ id: score.id ?? `score-${requests.length}` }) };
      } else if (path === '/api/public/ingestion') {
        const batch = (JSON.parse(body.toString('utf8') || '{}') as { batch?: Array<{ id: string }> }).batch ?? [];
        answer = { status: 207, type: 'application/json', body: JSON.stringify({ successes: batch.map((e) => ({ id: e.id, status: 201 })), errors: [] }) };
      } else {
        answer = { status: 200, type: 'application/json', body: '{}' };
      }
      rec.status = answer.status;
      res.writeHead(answer.status, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, port, requests, close: () => closeServer(server) };
}
