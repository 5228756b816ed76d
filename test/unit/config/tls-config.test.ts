// TLS settings from the variables and a destinations file: files read at start, every problem
// reported at once naming the variable (or the file's YAML path) and the file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../../src/config/service-config.js';
import { configIssuesOf } from '../../helpers/config-issues.js';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.js';

let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.remove());

const issuesOf = configIssuesOf;

describe('TLS from the OTEL_EXPORTER_OTLP_* variables', () => {
  it('reads the CA bundle, client certificate and key for traces and metrics', () => {
    const config = loadServiceConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:4318',
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.ca,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.files.clientCert,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.files.clientKey,
    });
    const destination = config.destinations[0];
    expect(destination?.type).toBe('otlp');
    const tls = destination?.type === 'otlp' ? destination.tls : undefined;
    expect(tls?.ca?.equals(certs.read('ca'))).toBe(true);
    expect(tls?.cert?.equals(certs.read('clientCert'))).toBe(true);
    expect(tls?.key?.equals(certs.read('clientKey'))).toBe(true);
    expect(tls?.insecureSkipVerify).toBe(false);
    expect(config.metrics.tls?.files).toEqual({ ca: certs.files.ca, cert: certs.files.clientCert, key: certs.files.clientKey });
  });

  it('takes each signal-specific variable over the general one, one by one', () => {
    const config = loadServiceConfig({
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.otherCa,
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certs.files.ca,
      OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: certs.files.clientCert,
      OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: certs.files.clientKey,
    });
    expect(config.otlp.tls?.files).toEqual({ ca: certs.files.ca });
    expect(config.metrics.tls?.files).toEqual({ ca: certs.files.otherCa, cert: certs.files.clientCert, key: certs.files.clientKey });
  });

  it('stops the start naming every bad file at once: missing, not PEM, key of another certificate, half a pair', () => {
    const notPem = path.join(certs.dir, 'not-a-certificate.txt');
    writeFileSync(notPem, 'hello');
    const issues = issuesOf({
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: path.join(certs.dir, 'missing.crt'),
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: certs.files.clientCert,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: certs.files.otherClientKey,
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: notPem,
      OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: certs.files.clientKey,
      BRIDGE_PORT: 'x',
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^BRIDGE_PORT is invalid/),
        `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE is invalid: expected a readable file (actual: '${path.join(certs.dir, 'missing.crt')}': ENOENT)`,
        `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY is invalid: expected the private key of OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE ('${certs.files.clientCert}') (actual: '${certs.files.otherClientKey}' is the key of another certificate)`,
        `OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE is invalid: expected PEM CA certificates (actual: '${notPem}': no PEM certificate in it)`,
        'OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE is invalid: expected it with OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY (a client certificate and its key come together) (actual: not set)',
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('refuses a key file that is not a key, once for both signals', () => {
    const issues = issuesOf({ OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.files.clientCert, OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.files.ca });
    expect(issues).toEqual([expect.stringMatching(new RegExp(`^OTEL_EXPORTER_OTLP_CLIENT_KEY is invalid: expected an unencrypted PEM private key \\(actual: '${certs.files.ca}': `))]);
  });
});

describe('TLS per destination in the BRIDGE_CONFIG file', () => {
  it('reads tls.ca_file, cert_file, key_file (relative to the file) and insecure_skip_verify', () => {
    const file = path.join(certs.dir, 'destinations.yaml');
    writeFileSync(
      file,
      [
        'destinations:',
        '  - { name: collector, type: otlp, endpoint: "https://127.0.0.1:4318", tls: { ca_file: test-ca.crt, cert_file: client.crt, key_file: client.key } }',
        '  - name: langfuse',
        '    type: langfuse',
        '    endpoint: https://127.0.0.1:3443',
        '    public_key: pk',
        '    secret_key: sk',
        '    tls: { insecure_skip_verify: true }',
      ].join('\n'),
    );
    const [collector, langfuse] = loadServiceConfig({ BRIDGE_CONFIG: file }).destinations;
    expect(collector?.type === 'otlp' && collector.tls?.files).toEqual({ ca: certs.files.ca, cert: certs.files.clientCert, key: certs.files.clientKey });
    expect(langfuse?.type === 'langfuse' && langfuse.tls).toMatchObject({ insecureSkipVerify: true, files: {} });
  });

  it('names the file, the YAML path and the certificate file of every problem', () => {
    const file = path.join(certs.dir, 'bad-tls.yaml');
    writeFileSync(
      file,
      [
        'destinations:',
        '  - { name: a, type: otlp, endpoint: "https://h:4318", tls: { ca_file: nope.crt } }',
        '  - { name: b, type: otlp, endpoint: "https://h:4318", tls: { cert_file: client.crt, key_file: other-client.key } }',
        '  - { name: c, type: otlp, endpoint: "https://h:4318", tls: { ca: x } }',
      ].join('\n'),
    );
    const issues = issuesOf({ BRIDGE_CONFIG: file });
    expect(issues).toEqual([`${file}: destinations[2].tls: unknown key(s) "ca"`]);
    // Schema problems come first; with the schema right, the files are checked.
    writeFileSync(file, ['destinations:', '  - { name: a, type: otlp, endpoint: "https://h:4318", tls: { ca_file: nope.crt } }', '  - { name: b, type: otlp, endpoint: "https://h:4318", tls: { cert_file: client.crt, key_file: other-client.key } }'].join('\n'));
    expect(issuesOf({ BRIDGE_CONFIG: file })).toEqual([
      `${file}: destinations[0].tls.ca_file: expected a readable file (actual: '${path.join(certs.dir, 'nope.crt')}': ENOENT)`,
      `${file}: destinations[1].tls.key_file: expected the private key of tls.cert_file ('${certs.files.clientCert}') (actual: '${certs.files.otherClientKey}' is the key of another certificate)`,
    ]);
  });
});
