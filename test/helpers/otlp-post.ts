// POSTs an OTLP/HTTP body to an express app as it is (superagent would JSON-encode a Buffer sent
// as application/json) and reads the answer as bytes, whatever its content type.
import type { Express } from 'express';
import request from 'supertest';

export const OTLP_TRACES_PATH = '/api/public/otel/v1/traces';

export function postOtlp(app: Express, contentType: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return request(app)
    .post(OTLP_TRACES_PATH)
    .set('Content-Type', contentType)
    .set(headers)
    .serialize((x: unknown) => x as string)
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    })
    .send(body as never);
}
