// Certificates for TLS tests, made with the machine's `openssl` into a temp dir: a private CA, a
// server certificate for 127.0.0.1/localhost, a client certificate it signed, and a second CA with
// its own client certificate (for "unknown CA" and "bad client certificate"). EC P-256 keys: fast.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificates {
  dir: string;
  /** Paths of PEM files. */
  files: {
    ca: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    otherCa: string;
    otherClientCert: string;
    otherClientKey: string;
  };
  read(file: keyof TestCertificates['files']): Buffer;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(cwd: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`], cwd);
}

function makeSigned(cwd: string, name: string, ca: string, extensions?: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`], cwd);
  const ext = extensions ? ['-extfile', `${name}.ext`] : [];
  if (extensions) writeFileSync(path.join(cwd, `${name}.ext`), extensions);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...ext], cwd);
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'bridge-tls-'));
  makeCa(dir, 'test-ca');
  makeCa(dir, 'other-ca');
  makeSigned(dir, 'server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  makeSigned(dir, 'client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  makeSigned(dir, 'other-client', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const at = (name: string) => path.join(dir, name);
  const files = {
    ca: at('test-ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCa: at('other-ca.crt'),
    otherClientCert: at('other-client.crt'),
    otherClientKey: at('other-client.key'),
  };
  return {
    dir,
    files,
    read: (file) => readFileSync(files[file]),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
