// TLS settings of an exporter, resolved at start into plain data: the CA bundle, client certificate
// and client key read from their files (named by the OTEL_EXPORTER_OTLP_*CERTIFICATE / _CLIENT_*
// variables or a destination's `tls:` block, in the Collector's names), checked once: every file
// readable, every PEM parseable, the key matching its certificate. Owns no sockets: export/ turns
// the material into agent options or gRPC credentials. Reads only the files it is pointed at.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What a `tls:` block or the variables name (paths already absolute or relative to the process). */
export interface TlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The Collector's `insecure_skip_verify`: the server's certificate is not checked (tests, never production). */
  insecureSkipVerify?: boolean;
}

/**
 * The material, read. `ca` replaces the default roots (as the Collector's `ca_file` and the OTel
 * SDKs' OTEL_EXPORTER_OTLP_CERTIFICATE do); `cert` and `key` come together or not at all.
 */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipVerify: boolean;
  /** The files, for log lines and errors. */
  files: { ca?: string; cert?: string; key?: string };
}

/** Where each setting came from, as a config error names it (`OTEL_EXPORTER_OTLP_CERTIFICATE`, `file: destinations[0].tls.ca_file`). */
export interface TlsSources {
  ca: string;
  cert: string;
  key: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reports one problem of one setting: `what` is `expected … (actual: '<file>': …)`. */
export type TlsIssue = (source: string, what: string) => void;

/**
 * Reads and checks the files; every problem is reported, each naming its source and file.
 * Undefined when no TLS setting is given (the transport's defaults apply) or a file is bad.
 */
export function readTlsMaterial(files: TlsFiles, sources: TlsSources, report: TlsIssue): TlsMaterial | undefined {
  if (files.caFile === undefined && files.certFile === undefined && files.keyFile === undefined && !files.insecureSkipVerify) return undefined;
  let problems = 0;
  const issue: TlsIssue = (source, what) => {
    problems++;
    report(source, what);
  };
  const read = (file: string, source: string): Buffer | undefined => {
    try {
      return readFileSync(file);
    } catch (error) {
      issue(source, `expected a readable file (actual: '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      return undefined;
    }
  };
  const material: TlsMaterial = { insecureSkipVerify: files.insecureSkipVerify ?? false, files: {} };

  if (files.caFile !== undefined) {
    const ca = read(files.caFile, sources.ca);
    if (ca) {
      const problem = certificatesProblem(ca);
      if (problem) issue(sources.ca, `expected PEM CA certificates (actual: '${files.caFile}': ${problem})`);
      else material.ca = ca;
      material.files.ca = files.caFile;
    }
  }
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    const [given, missing] = files.certFile === undefined ? [sources.key, sources.cert] : [sources.cert, sources.key];
    issue(missing, `expected it with ${given} (a client certificate and its key come together) (actual: not set)`);
  } else if (files.certFile !== undefined && files.keyFile !== undefined) {
    const cert = read(files.certFile, sources.cert);
    const key = read(files.keyFile, sources.key);
    let certificate: X509Certificate | undefined;
    if (cert) {
      const problem = certificatesProblem(cert);
      if (problem) issue(sources.cert, `expected a PEM certificate (actual: '${files.certFile}': ${problem})`);
      else certificate = new X509Certificate(cert);
    }
    if (key) {
      let privateKey;
      try {
        privateKey = createPrivateKey(key);
      } catch (error) {
        issue(sources.key, `expected an unencrypted PEM private key (actual: '${files.keyFile}': ${errorText(error)})`);
      }
      if (privateKey && certificate && !certificate.checkPrivateKey(privateKey)) {
        issue(sources.key, `expected the private key of ${sources.cert} ('${files.certFile}') (actual: '${files.keyFile}' is the key of another certificate)`);
      }
    }
    if (cert && key) {
      material.cert = cert;
      material.key = key;
      material.files.cert = files.certFile;
      material.files.key = files.keyFile;
    }
  }
  return problems > 0 ? undefined : material;
}

/**
 * TLS of one signal from the environment: each of the three variables in its signal-specific form
 * (`OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`) wins over the general one, one by one, as the OTLP
 * exporter specification says.
 */
export function tlsFromEnv(env: Record<string, string | undefined>, signal: 'TRACES' | 'METRICS', issues: string[]): TlsMaterial | undefined {
  const pick = (suffix: string): { name: string; value?: string } => {
    const specific = `OTEL_EXPORTER_OTLP_${signal}_${suffix}`;
    const general = `OTEL_EXPORTER_OTLP_${suffix}`;
    if (given(env[specific])) return { name: specific, value: env[specific]! };
    if (given(env[general])) return { name: general, value: env[general]! };
    return { name: specific };
  };
  const ca = pick('CERTIFICATE');
  const cert = pick('CLIENT_CERTIFICATE');
  const key = pick('CLIENT_KEY');
  return readTlsMaterial(
    { ...(ca.value !== undefined ? { caFile: ca.value } : {}), ...(cert.value !== undefined ? { certFile: cert.value } : {}), ...(key.value !== undefined ? { keyFile: key.value } : {}) },
    { ca: ca.name, cert: cert.name, key: key.name },
    (source, what) => issues.push(`${source} is invalid: ${what}`),
  );
}

/** The variables tlsFromEnv reads, for the settings table. */
export const TLS_ENV_SUFFIXES = ['CERTIFICATE', 'CLIENT_CERTIFICATE', 'CLIENT_KEY'] as const;

function given(value: string | undefined): boolean {
  return value !== undefined && value !== '';
}

/** Undefined when the PEM text holds at least one certificate and each of them parses. */
function certificatesProblem(pem: Buffer): string | undefined {
  const blocks = pem.toString('utf8').match(PEM_CERTIFICATE);
  if (!blocks) return 'no PEM certificate in it';
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return errorText(error);
    }
  }
  return undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
