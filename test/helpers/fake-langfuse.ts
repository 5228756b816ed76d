// A fake Langfuse on 127.0.0.1 (port 0) for tests: its OTLP endpoint (/api/public/otel/v1/traces)
// records path, headers, instrumentation scope and attributes per span, its scores API
// (/api/public/scores) records each score call. It checks what the real one checks before it
// accepts (Basic auth of one of its projects' key pairs, content type, x-langfuse-ingestion-version
// ≤ 4) and answers as told otherwise; each request records the project (public key) it was
// accepted as. The test that starts one must close() it.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeJsonRequest, decodeProtobufRequest, type CollectedSpan } from './fake-collector.js';

export interface LangfuseTraceRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** The public key of the project whose pair the request carried (absent when refused). */
  project?: string;
  spans: CollectedSpan[];
  /** The status the fake answered. */
  status: number;
}

export interface LangfuseScoreRequest {
  path: string;
  headers: IncomingHttpHeaders;
  project?: string;
  body: Record<string, unknown>;
  status: number;
}

export interface FakeLangfuse {
  /** `http://127.0.0.1:<port>`: the host a langfuse destination is given. */
  baseUrl: string;
  publicKey: string;
  secretKey: string;
  traceRequests: LangfuseTraceRequest[];
  scoreRequests: LangfuseScoreRequest[];
  /** Spans of the trace requests answered 200, in arrival order. */
  spans(): CollectedSpan[];
  /** The status of the next score calls (200 answers `{"id": …}`). */
  answerScoresWith(status: number): void;
  /** The status of the next trace requests that pass the checks. */
  answerTracesWith(status: number): void;
  close(): Promise<void>;
}

type KeyPair = { publicKey: string; secretKey: string };

/** `keys`: the first project's pair; `otherProjects`: more projects on the same host (one per tenant). */
export async function startFakeLangfuse(keys: KeyPair = { publicKey: 'pk-lf-fake', secretKey: 'sk-lf-fake' }, otherProjects: KeyPair[] = []): Promise<FakeLangfuse> {
  const traceRequests: LangfuseTraceRequest[] = [];
  const scoreRequests: LangfuseScoreRequest[] = [];
  let scoreStatus = 200;
  let traceStatus = 200;
  const projects = new Map([keys, ...otherProjects].map((k) => [`Basic ${Buffer.from(`${k.publicKey}:${k.secretKey}`).toString('base64')}`, k.publicKey]));

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST') return reply(405, { message: 'Method not allowed' });
      const project = projects.get(req.headers.authorization ?? '');
      if (project === undefined) {
        if (path.startsWith('/api/public/otel')) traceRequests.push({ path, headers: req.headers, spans: [], status: 401 });
        else scoreRequests.push({ path, headers: req.headers, body: {}, status: 401 });
        return reply(401, { message: 'Invalid credentials' });
      }
      let raw = Buffer.concat(chunks);
      if (path === '/api/public/otel/v1/traces') {
        const contentType = String(req.headers['content-type'] ?? '').toLowerCase();
        const version = req.headers['x-langfuse-ingestion-version'];
        let spans: CollectedSpan[] = [];
        let status = traceStatus;
        try {
          if (String(req.headers['content-encoding'] ?? '').includes('gzip')) raw = gunzipSync(raw);
          if (contentType.includes('application/x-protobuf')) spans = decodeProtobufRequest(raw);
          else if (contentType.includes('application/json')) spans = decodeJsonRequest(raw);
          else status = 400;
        } catch {
          status = 400;
        }
        if (version !== undefined && !(Number(version) <= 4)) status = 400;
        traceRequests.push({ path, headers: req.headers, project, spans, status });
        return reply(status, status === 200 ? {} : { error: 'refused' });
      }
      if (path === '/api/public/scores') {
        let body: Record<string, unknown> = {};
        let status = scoreStatus;
        try {
          body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        } catch {
          status = 400;
        }
        scoreRequests.push({ path, headers: req.headers, project, body, status });
        return reply(status, status === 200 ? { id: body['id'] } : { message: 'refused' });
      }
      return reply(404, { message: 'Not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    ...keys,
    traceRequests,
    scoreRequests,
    spans: () => traceRequests.filter((r) => r.status === 200).flatMap((r) => r.spans),
    answerScoresWith(status) {
      scoreStatus = status;
    },
    answerTracesWith(status) {
      traceStatus = status;
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
