// TLS on the export side: a destination's TlsMaterial as node:https agent options, and a TLS
// failure of an attempt (OpenSSL's error code) as a reason an operator can act on. Pure; builds
// no agent and opens no socket itself.
import type { AgentOptions as HttpsAgentOptions } from 'node:https';

import type { TlsMaterial } from '../config/tls-config.js';

/** Options for an https.Agent (or tls.connect); empty without material: the platform's roots. */
export function tlsAgentOptions(tls: TlsMaterial | undefined): HttpsAgentOptions {
  if (!tls) return {};
  return {
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(tls.insecureSkipVerify ? { rejectUnauthorized: false } : {}),
  };
}

/** Codes Node sets when verifying the server's certificate fails (from OpenSSL's X509_V_ERR_*). */
const SERVER_CERTIFICATE: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "unknown CA: the server's certificate is not signed by a trusted CA (set the CA bundle: OTEL_EXPORTER_OTLP_CERTIFICATE or tls.ca_file)",
  UNABLE_TO_GET_ISSUER_CERT: "unknown CA: the issuer of the server's certificate is not trusted (set the CA bundle: OTEL_EXPORTER_OTLP_CERTIFICATE or tls.ca_file)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "unknown CA: the issuer of the server's certificate is not trusted (set the CA bundle: OTEL_EXPORTER_OTLP_CERTIFICATE or tls.ca_file)",
  SELF_SIGNED_CERT_IN_CHAIN: "unknown CA: the server's certificate chain ends in a CA that is not trusted (set the CA bundle: OTEL_EXPORTER_OTLP_CERTIFICATE or tls.ca_file)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "unknown CA: the server's certificate is self-signed and not trusted (set the CA bundle: OTEL_EXPORTER_OTLP_CERTIFICATE or tls.ca_file)",
  CERT_HAS_EXPIRED: "bad server certificate: it has expired",
  CERT_NOT_YET_VALID: 'bad server certificate: it is not yet valid',
  CERT_SIGNATURE_FAILURE: "bad server certificate: its signature does not verify",
  ERR_TLS_CERT_ALTNAME_INVALID: "bad server certificate: it does not name the endpoint's host",
};

/**
 * The same failures as text, where only a message is at hand (grpc-js puts the socket's error
 * message in the status details): Node's messages for the codes above.
 */
const SERVER_CERTIFICATE_MESSAGES: Array<[RegExp, string]> = [
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/unable to get issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT'],
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];

/** Alerts the server sends when it refuses the bridge's client certificate (mTLS), as codes or as OpenSSL's text. */
const CLIENT_CERTIFICATE: Array<[RegExp, string]> = [
  [/CERTIFICATE[_ ]REQUIRED/i, 'client certificate required: the server asks for one and none is set (OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY, or tls.cert_file and tls.key_file)'],
  [/ALERT[_ ]UNKNOWN[_ ]CA/i, "bad client certificate: the server does not trust the client certificate's CA"],
  [/ALERT[_ ](BAD[_ ]CERTIFICATE|UNSUPPORTED[_ ]CERTIFICATE|CERTIFICATE[_ ](REVOKED|EXPIRED|UNKNOWN)|DECRYPT[_ ]ERROR)/i, 'bad client certificate: the server refused it'],
  [/ALERT[_ ](HANDSHAKE[_ ]FAILURE|PROTOCOL[_ ]VERSION)|WRONG[_ ]VERSION[_ ]NUMBER/i, 'no common TLS version or cipher (or the endpoint does not speak TLS)'],
];

/**
 * `TLS handshake failed: <reason> (<code>)` for an error code of a failed TLS connection,
 * undefined for other network errors. `afterHandshake`: the connection was reset right after its
 * handshake, before any answer, which is how a server built on Node or OpenSSL without alerts
 * refuses a client certificate it does not trust.
 */
export function describeTlsFailure(code: string | undefined, message = '', afterHandshake = false): string | undefined {
  if (afterHandshake && (code === 'ECONNRESET' || code === 'EPIPE')) {
    return `TLS connection refused by the server right after the handshake: it may not accept the client certificate (check OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE or tls.cert_file against the server's client CA) (${code})`;
  }
  const serverCode = code !== undefined && code in SERVER_CERTIFICATE ? code : SERVER_CERTIFICATE_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
  if (serverCode) return `TLS handshake failed: ${SERVER_CERTIFICATE[serverCode]} (${serverCode})`;
  const text = `${code ?? ''} ${message}`;
  for (const [pattern, reason] of CLIENT_CERTIFICATE) {
    const match = pattern.exec(text);
    if (match) return `TLS handshake failed: ${reason} (${code ?? match[0]})`;
  }
  if (code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_')) return `TLS handshake failed: ${message || code} (${code})`;
  return undefined;
}
