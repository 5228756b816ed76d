// Issue 8 (1, 2, 6) on the real process with keys set: a wrong key is refused from the headers alone
// (an unparseable body gets 401, not 400; a 200 MB declared body gets its 401 after a few KB were
// sent), a batch over the events cap gets a small JSON 413, the 207's error list is capped,
// malformed HTTP gets JSON, keep-alive outlasts the clients' pools, and the connection cap holds.
// The 408 path needs timeouts far below the real ones, so it runs on an in-process server.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createSilentLogger } from '../helpers/silent-logger.js';
import { configureHttpServer } from '../../src/receiver/http-server.js';
import { startBridge, stopAllBridges, stopBridge, type RunningBridge } from '../helpers/bridge-process.js';

const PUBLIC = 'pk-lf-hostile';
const SECRET = 'sk-lf-hostile';
const GOOD = `Basic ${Buffer.from(`${PUBLIC}:${SECRET}`).toString('base64')}`;
const WRONG = `Basic ${Buffer.from(`${PUBLIC}:wrong`).toString('base64')}`;

let bridge: RunningBridge;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'bridge-hostile-'));
  bridge = await startBridge({
    dataDir,
    collectorUrl: 'http://127.0.0.1:9/v1/traces',
    env: { LANGFUSE_PUBLIC_KEY: PUBLIC, LANGFUSE_SECRET_KEY: SECRET, BRIDGE_MAX_CONNECTIONS: '20' },
  });
}, 30_000);

afterAll(async () => {
  if (bridge) await stopBridge(bridge);
  await stopAllBridges();
  rmSync(dataDir, { recursive: true, force: true });
});

async function ingest(body: string, authorization: string): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${bridge.url}/api/public/ingestion`, { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function rejectedCount(reason: string): Promise<number> {
  const text = await (await fetch(`${bridge.url}/metrics`)).text();
  const match = new RegExp(`^bridge_requests_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Opens a raw connection to the bridge; resolves with everything it answered once it closes. */
function rawExchange(write: (socket: Socket) => void, timeoutMillis = 10_000): Promise<{ text: string; closed: boolean }> {
  const { port } = new URL(bridge.url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, timeoutMillis);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('connect', () => write(socket));
  });
}

it('a wrong key is answered 401 before the body is parsed: an unparseable body never reaches JSON.parse', async () => {
  const invalidJsonBefore = await rejectedCount('invalid_json');
  const unauthorizedBefore = await rejectedCount('unauthorized');
  for (let i = 0; i < 5; i++) {
    const answer = await ingest('{"batch": [ this is not json', WRONG);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toEqual({ error: 'UnauthorizedError', message: expect.stringMatching(/Invalid credentials/) as unknown });
  }
  expect((await ingest('{"batch": [ this is not json', '')).status).toBe(401);
  expect(await rejectedCount('invalid_json')).toBe(invalidJsonBefore);
  expect(await rejectedCount('unauthorized')).toBe(unauthorizedBefore + 6);
  // The same body with the right key is parsed (and refused as JSON): the order really is auth first.
  expect((await ingest('{"batch": [ this is not json', GOOD)).status).toBe(400);
});

it('a huge unauthenticated body is refused without reading it: the 401 comes after 64 KB of a declared 200 MB', async () => {
  const declared = 200 * 1024 * 1024;
  let sent = 0;
  const result = await rawExchange((socket) => {
    socket.write(
      `POST /api/public/ingestion HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: ${WRONG}\r\nContent-Length: ${declared}\r\n\r\n`,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    socket.write(chunk);
    sent += chunk.length;
    // Nothing more is sent: a server waiting for the body would never answer.
  });
  expect(sent).toBeLessThan(declared / 1000);
  expect(result.text).toMatch(/^HTTP\/1\.1 401 /);
  expect(result.text).toMatch(/connection: close/i);
  expect(result.text).toMatch(/"error":"UnauthorizedError"/);
  expect(result.closed).toBe(true);
});

it('open routes stay open; every other route, known or not, needs the keys', async () => {
  expect((await fetch(`${bridge.url}/api/public/health`)).status).toBe(200);
  expect((await fetch(`${bridge.url}/api/public/ready`)).status).toBe(200);
  expect((await fetch(`${bridge.url}/metrics`)).status).toBe(200);
  const projects = await fetch(`${bridge.url}/api/public/projects`, { headers: { authorization: WRONG } });
  expect(projects.status).toBe(401);
  expect(await projects.json()).toEqual({ message: expect.stringMatching(/Invalid credentials/) as unknown });
  expect((await fetch(`${bridge.url}/api/public/otel/v1/traces`, { method: 'POST', body: 'x' })).status).toBe(401);
  expect((await fetch(`${bridge.url}/api/public/projects`, { headers: { authorization: GOOD } })).status).toBe(200);
});

it('1,000,000 invalid events in one body get a small JSON 413 naming the limit', async () => {
  const body = `{"batch":[${new Array(1_000_000).fill('1').join(',')}]}`;
  expect(body.length).toBeGreaterThan(1_900_000);
  const answer = await ingest(body, GOOD);
  expect(answer.status).toBe(413);
  expect(answer.text.length).toBeLessThan(300);
  expect(JSON.parse(answer.text)).toEqual({
    error: 'PayloadTooLargeError',
    message: expect.stringMatching(/1000000 events; at most 10000 .*BRIDGE_MAX_EVENTS_PER_REQUEST/) as unknown,
  });
});

it('10,000 invalid events (the cap) get a 207 listing the first 100 errors and one entry counting the rest', async () => {
  const batch = Array.from({ length: 10_000 }, (_, i) => ({ id: `bad-${i}`, type: 'generation-create', timestamp: 'never', body: { id: 42 } }));
  const answer = await ingest(JSON.stringify({ batch }), GOOD);
  expect(answer.status).toBe(207);
  const body = JSON.parse(answer.text) as { successes: unknown[]; errors: Array<{ id: string; error: string }> };
  expect(body.successes).toEqual([]);
  expect(body.errors).toHaveLength(101);
  expect(body.errors[0]!.id).toBe('bad-0');
  expect(body.errors[100]).toMatchObject({ id: 'bridge-errors-truncated', status: 400, error: expect.stringMatching(/^9900 more events were rejected/) as unknown });
  expect(answer.text.length).toBeLessThan(200_000);
}, 30_000);

it('keep-alive outlasts the clients’ pools (65 s), announced in the Keep-Alive header', async () => {
  const res = await fetch(`${bridge.url}/api/public/health`);
  expect(res.headers.get('keep-alive')).toBe('timeout=65');
});

it('a malformed request gets a JSON 400, not Node’s plain-text one', async () => {
  const result = await rawExchange((socket) => socket.write('GET /api/public/health HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n'));
  expect(result.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(result.text).toMatch(/content-type: application\/json/i);
  expect(JSON.parse(result.text.slice(result.text.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'BadRequestError', message: expect.stringMatching(/Malformed HTTP request/) as unknown });
});

it('connections past BRIDGE_MAX_CONNECTIONS are closed at once; the ones within keep being served', async () => {
  const { port } = new URL(bridge.url);
  const held: Socket[] = [];
  // Hold the 20 connections open (an idle keep-alive client would do the same).
  for (let i = 0; i < 20; i++) {
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    held.push(socket);
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  const extra = await rawExchange((socket) => socket.write('GET /api/public/health HTTP/1.1\r\nHost: x\r\n\r\n'), 5000);
  expect(extra.closed).toBe(true);
  expect(extra.text).toBe('');
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect((await fetch(`${bridge.url}/api/public/health`)).status).toBe(200);
});

describe408();

function describe408(): void {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('a request that does not arrive in time gets a JSON 408', async () => {
    // The real timeouts (66 s for headers) are shortened here: the answer is what is tested.
    server = createServer({ requestTimeout: 300, connectionsCheckingInterval: 50 }, (_req, res) => res.end('{}'));
    configureHttpServer(server, { maxConnections: 10, logger: createSilentLogger() });
    server.headersTimeout = 200;
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const text = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('POST / HTTP/1.1\r\nHost: x\r\n')); // headers never end
      let got = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (got += chunk));
      socket.on('close', () => resolve(got));
      socket.on('error', () => undefined);
    });
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'RequestTimeoutError', message: 'The request was not received in time' });
  });
}
