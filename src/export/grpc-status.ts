// The rich status a gRPC server may attach to an error (`grpc-status-details-bin`: a
// google.rpc.Status), read for the one detail the OTLP specification gives meaning to:
// google.rpc.RetryInfo's retry_delay, the server's "retry after". Decoded with protobufjs from the
// three messages' descriptors (field numbers from googleapis google/rpc/status.proto,
// error_details.proto and protobuf's any.proto / duration.proto). Pure.
import protobuf from 'protobufjs';

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        rpc: {
          nested: {
            Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
            RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
            Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
      },
    },
  },
});
const Status = root.lookupType('google.rpc.Status');
const RetryInfo = root.lookupType('google.rpc.RetryInfo');
export const RETRY_INFO_TYPE = 'type.googleapis.com/google.rpc.RetryInfo';
/** The message types, for servers in tests that send a rich status. */
export const grpcStatusTypes = { Status, RetryInfo };

/** The RetryInfo delay in a serialized google.rpc.Status, in milliseconds; undefined when there is none or it cannot be read. */
export function retryDelayMillis(statusDetails: Uint8Array | undefined): number | undefined {
  if (!statusDetails || statusDetails.byteLength === 0) return undefined;
  try {
    const status = Status.toObject(Status.decode(statusDetails), { longs: Number, defaults: true }) as { details: Array<{ typeUrl: string; value: Uint8Array }> };
    const detail = status.details.find((d) => d.typeUrl === RETRY_INFO_TYPE);
    if (!detail) return undefined;
    const info = RetryInfo.toObject(RetryInfo.decode(detail.value), { longs: Number, defaults: true }) as { retryDelay?: { seconds: number; nanos: number } };
    if (!info.retryDelay) return undefined;
    const millis = info.retryDelay.seconds * 1000 + Math.floor(info.retryDelay.nanos / 1e6);
    return Number.isFinite(millis) && millis >= 0 ? millis : undefined;
  } catch {
    return undefined;
  }
}
