// TLS material as agent options, and TLS failures as reasons an operator can act on.
import { describe, expect, it } from 'vitest';
import { describeTlsFailure, tlsAgentOptions } from '../../../src/export/tls-options.js';

describe('tlsAgentOptions', () => {
  it('passes the CA, certificate and key, and turns verification off only for insecure_skip_verify', () => {
    const ca = Buffer.from('ca');
    expect(tlsAgentOptions(undefined)).toEqual({});
    expect(tlsAgentOptions({ ca, insecureSkipVerify: false, files: {} })).toEqual({ ca });
    expect(tlsAgentOptions({ insecureSkipVerify: true, files: {} })).toEqual({ rejectUnauthorized: false });
  });
});

describe('describeTlsFailure', () => {
  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', '', /^TLS handshake failed: unknown CA: .* \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', '', /unknown CA: the server's certificate is self-signed/],
    ['CERT_HAS_EXPIRED', '', /bad server certificate: it has expired/],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", /does not name the endpoint's host/],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tlsv13 alert certificate required', /client certificate required/],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate', /bad client certificate: the server refused it/],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', '', /the server does not trust the client certificate's CA/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', /does not speak TLS/],
  ])('%s', (code, message, reason) => {
    expect(describeTlsFailure(code, message)).toMatch(reason);
  });

  it('leaves other network errors alone, and reads a reset right after a handshake as a refused client', () => {
    expect(describeTlsFailure('ECONNREFUSED', 'connect ECONNREFUSED')).toBeUndefined();
    expect(describeTlsFailure('ECONNRESET', 'socket hang up')).toBeUndefined();
    expect(describeTlsFailure('ECONNRESET', 'read ECONNRESET', true)).toMatch(/right after the handshake: it may not accept the client certificate/);
  });
});
