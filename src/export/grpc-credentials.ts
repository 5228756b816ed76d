// gRPC channel credentials for an OTLP/gRPC endpoint: `https` means TLS (with the destination's CA
// bundle and client certificate when set, the same TlsMaterial as OTLP/HTTP), `http` plaintext, as
// the OTLP exporter specification reads the scheme. Shared by the span sink and the metrics exporter.
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';

import type { TlsMaterial } from '../config/tls-config.js';

export function grpcCredentials(url: URL, tls: TlsMaterial | undefined): ChannelCredentials {
  if (url.protocol === 'http:') return credentials.createInsecure();
  return credentials.createSsl(
    tls?.ca ?? null,
    tls?.key ?? null,
    tls?.cert ?? null,
    // The Collector's insecure_skip_verify: neither the chain nor the host name is checked.
    tls?.insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

/** `host:port` of a gRPC endpoint URL (the port defaults to the scheme's: 443 or 80). */
export function grpcTarget(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname}:${port}`;
}
