// A fast local OTLP/HTTP trace receiver for the benchmarks, run as its own process (so its work
// neither shares the bridge's core nor the load generator's event loop): answers 200 to
// POST /v1/traces (or 503 + Retry-After while told the backend is down), and counts requests,
// bytes, spans and distinct span ids by walking the protobuf wire format (or the JSON encoding).
// Control: GET /stats, POST /mode?status=200|503, POST /reset, POST /capture?maxBytes=N (keep the
// next request bodies, up to N bytes, as received) and GET /captured (them, each framed as a
// 4-byte big-endian length then the body; all protobuf: what the bridge sends by default).
// It prints {"url": ...} once listening.
// Also exports startSinkProcess() for the benchmarks. Knows nothing of the bridge's code.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

/** Reads a varint at `pos`; returns [value, next position] (values beyond 2^53 are not needed). */
function varint(buf, pos) {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Calls `onField(field, start, end)` for each length-delimited field of buf[start, end). */
function eachLengthDelimited(buf, start, end, onField) {
  let pos = start;
  while (pos < end) {
    let key;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) [, pos] = varint(buf, pos);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let length;
      [length, pos] = varint(buf, pos);
      onField(field, pos, pos + length);
      pos += length;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** Span ids of an ExportTraceServiceRequest (resource_spans=1 → scope_spans=2 → spans=2 → span_id=2). */
function spanIdsOfProtobuf(buf) {
  const ids = [];
  eachLengthDelimited(buf, 0, buf.length, (f1, s1, e1) => {
    if (f1 !== 1) return;
    eachLengthDelimited(buf, s1, e1, (f2, s2, e2) => {
      if (f2 !== 2) return;
      eachLengthDelimited(buf, s2, e2, (f3, s3, e3) => {
        if (f3 !== 2) return;
        let id = '';
        eachLengthDelimited(buf, s3, e3, (f4, s4, e4) => {
          if (f4 === 2) id = buf.toString('hex', s4, e4);
        });
        ids.push(id);
      });
    });
  });
  return ids;
}

function spanIdsOfJson(buf) {
  const request = JSON.parse(buf.toString('utf8'));
  const ids = [];
  for (const rs of request.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) ids.push(String(span.spanId));
  return ids;
}

function runSink(port) {
  const state = { status: 200, requests: 0, refused: 0, bytes: 0, spans: 0, undecodable: 0, firstAtMillis: 0, lastAtMillis: 0 };
  let distinct = new Set();
  // Request bodies kept for a replay (the Collector comparison): the bridge's own output.
  let capture = { maxBytes: 0, bytes: 0, bodies: [], spans: 0 };
  const json = (res, status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    if (req.method === 'GET' && url.pathname === '/stats') return json(res, 200, { ...state, distinctSpans: distinct.size });
    if (req.method === 'POST' && url.pathname === '/mode') {
      state.status = Number(url.searchParams.get('status') ?? 200);
      req.resume();
      return json(res, 200, { status: state.status });
    }
    if (req.method === 'POST' && url.pathname === '/capture') {
      capture = { maxBytes: Number(url.searchParams.get('maxBytes') ?? 0), bytes: 0, bodies: [], spans: 0 };
      req.resume();
      return json(res, 200, {});
    }
    if (req.method === 'GET' && url.pathname === '/captured') {
      const frames = [];
      for (const body of capture.bodies) {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(body.length);
        frames.push(length, body);
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-spans': String(capture.spans) });
      return res.end(Buffer.concat(frames));
    }
    if (req.method === 'POST' && url.pathname === '/reset') {
      Object.assign(state, { requests: 0, refused: 0, bytes: 0, spans: 0, undecodable: 0, firstAtMillis: 0, lastAtMillis: 0 });
      distinct = new Set();
      req.resume();
      return json(res, 200, {});
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/traces') return json(res, 404, {});
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      if (state.status !== 200) {
        state.refused++;
        res.writeHead(state.status, { 'retry-after': '1', 'content-type': 'text/plain' });
        return res.end('backend down (benchmark)');
      }
      let body = Buffer.concat(chunks);
      state.requests++;
      state.bytes += body.length;
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const json = String(req.headers['content-type']).includes('json');
        const ids = json ? spanIdsOfJson(body) : spanIdsOfProtobuf(body);
        state.spans += ids.length;
        if (!json && capture.bytes + body.length <= capture.maxBytes) {
          capture.bodies.push(body);
          capture.bytes += body.length;
          capture.spans += ids.length;
        }
        for (const id of ids) distinct.add(id);
      } catch {
        state.undecodable++;
      }
      const now = Date.now();
      if (!state.firstAtMillis) state.firstAtMillis = now;
      state.lastAtMillis = now;
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { 'content-type': String(req.headers['content-type']).includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(String(req.headers['content-type']).includes('json') ? '{}' : '');
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** Starts the sink as a child process (inheriting this process's CPU affinity). */
export async function startSinkProcess() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const base = await new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      const line = buffer.split('\n')[0];
      if (buffer.includes('\n')) resolve(JSON.parse(line).url);
    });
    child.once('exit', (code) => reject(new Error(`OTLP sink exited (${code})`)));
  });
  const call = async (method, path) => (await fetch(`${base}${path}`, { method })).json();
  return {
    tracesUrl: `${base}/v1/traces`,
    pid: child.pid,
    stats: () => call('GET', '/stats'),
    setStatus: (status) => call('POST', `/mode?status=${status}`),
    reset: () => call('POST', '/reset'),
    /** Keeps the next protobuf request bodies, up to `maxBytes`. */
    capture: (maxBytes) => call('POST', `/capture?maxBytes=${maxBytes}`),
    /** The bodies kept since `capture`, and the spans they hold. */
    async captured() {
      const res = await fetch(`${base}/captured`);
      const all = Buffer.from(await res.arrayBuffer());
      const bodies = [];
      for (let pos = 0; pos < all.length; ) {
        const length = all.readUInt32BE(pos);
        bodies.push(all.subarray(pos + 4, pos + 4 + length));
        pos += 4 + length;
      }
      return { bodies, spans: Number(res.headers.get('x-spans') ?? 0) };
    },
    /**
     * Waits until the sink holds `expected` distinct spans, `timeoutMillis` passed or `stopIf()`.
     * Resolves `at` (performance.now(), undefined when incomplete) and the check of the counts.
     */
    async waitForSpans(expected, timeoutMillis, stopIf = () => false) {
      const deadline = performance.now() + timeoutMillis;
      for (;;) {
        const stats = await call('GET', '/stats');
        const complete = stats.distinctSpans >= expected;
        if (complete || performance.now() > deadline || stopIf()) {
          return {
            at: complete ? performance.now() : undefined,
            stats,
            check: { expected, distinctExported: stats.distinctSpans, missing: Math.max(0, expected - stats.distinctSpans), duplicates: stats.spans - stats.distinctSpans, undecodableRequests: stats.undecodable },
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--serve')) runSink(0);
