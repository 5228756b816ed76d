// A fake OTLP/gRPC collector on 127.0.0.1 (port 0) for tests, built on @grpc/grpc-js (a dev-side
// server): TraceService/Export and MetricsService/Export with raw-bytes (de)serializers, recording
// each call's metadata and bytes and decoding its spans; answers as told (OK, a status with an
// optional google.rpc.RetryInfo, or no answer). Plaintext, TLS or mTLS.
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { grpcStatusTypes, RETRY_INFO_TYPE } from '../../src/export/grpc-status.js';
import { decodeProtobufRequest, type CollectedSpan } from './fake-collector.js';

export type GrpcBehaviour =
  | { kind: 'ok' }
  | { kind: 'status'; code: status; details?: string; retryDelayMillis?: number }
  | { kind: 'hang' };

export interface GrpcCall {
  method: 'traces' | 'metrics';
  metadata: Record<string, string>;
  body: Buffer;
  spans: CollectedSpan[];
  answer: GrpcBehaviour['kind'] | string;
}

export interface FakeGrpcCollector {
  /** `http://127.0.0.1:<port>` or `https://…` with TLS. */
  url: string;
  calls: GrpcCall[];
  spans(): CollectedSpan[];
  setBehaviour(behaviour: GrpcBehaviour | ((callIndex: number, method: GrpcCall['method']) => GrpcBehaviour)): void;
  close(): Promise<void>;
}

const identity = (bytes: Buffer): Buffer => bytes;
const unary = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity });

function retryInfoStatus(code: number, message: string, delayMillis: number): Buffer {
  const { Status, RetryInfo } = grpcStatusTypes;
  const retryInfo = RetryInfo.encode(RetryInfo.fromObject({ retryDelay: { seconds: Math.floor(delayMillis / 1000), nanos: (delayMillis % 1000) * 1e6 } })).finish();
  return Buffer.from(Status.encode(Status.fromObject({ code, message, details: [{ typeUrl: RETRY_INFO_TYPE, value: retryInfo }] })).finish());
}

export async function startFakeGrpcCollector(
  initial: GrpcBehaviour | ((callIndex: number, method: GrpcCall['method']) => GrpcBehaviour) = { kind: 'ok' },
  options: { tls?: { key: Buffer; cert: Buffer; clientCa?: Buffer } } = {},
): Promise<FakeGrpcCollector> {
  let behaviour = initial;
  const calls: GrpcCall[] = [];
  const hanging: Array<sendUnaryData<Buffer>> = [];
  const handler = (method: GrpcCall['method']) => (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const index = calls.length;
    const chosen = typeof behaviour === 'function' ? behaviour(index, method) : behaviour;
    let spans: CollectedSpan[] = [];
    if (method === 'traces') {
      try {
        spans = decodeProtobufRequest(call.request);
      } catch {
        spans = [];
      }
    }
    const metadata = Object.fromEntries(Object.entries(call.metadata.getMap()).map(([k, v]) => [k, String(v)]));
    calls.push({ method, metadata, body: call.request, spans, answer: chosen.kind === 'status' ? status[chosen.code] ?? String(chosen.code) : chosen.kind });
    if (chosen.kind === 'ok') callback(null, Buffer.alloc(0));
    else if (chosen.kind === 'hang') hanging.push(callback);
    else {
      const trailer = new Metadata();
      if (chosen.retryDelayMillis !== undefined) trailer.set('grpc-status-details-bin', retryInfoStatus(chosen.code, chosen.details ?? '', chosen.retryDelayMillis));
      callback({ code: chosen.code, details: chosen.details ?? '', metadata: trailer });
    }
  };
  const server = new Server();
  server.addService(
    { Export: unary('/opentelemetry.proto.collector.trace.v1.TraceService/Export') },
    { Export: handler('traces') } as UntypedServiceImplementation,
  );
  server.addService(
    { Export: unary('/opentelemetry.proto.collector.metrics.v1.MetricsService/Export') },
    { Export: handler('metrics') } as UntypedServiceImplementation,
  );
  const tls = options.tls;
  const credentials = tls
    ? ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined)
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    calls,
    spans: () => calls.flatMap((c) => c.spans),
    setBehaviour(next) {
      behaviour = next;
    },
    close() {
      for (const callback of hanging.splice(0)) callback({ code: status.UNAVAILABLE, details: 'collector closed' });
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
