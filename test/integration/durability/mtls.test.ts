// Issue 19: the bridge process exports through an HTTPS collector on 127.0.0.1 whose private CA
// requires a client certificate (certificates made with openssl in a temp dir), configured by the
// standard variables and by a destinations file. Without the client certificate every export fails
// with a log line naming the destination and the reason, and nothing is exported; after a restart
// with the right settings every acknowledged span arrives, none twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBridge, startBridge, stopBridge, type BridgeLog } from '../../helpers/bridge-process.js';
import { checkExport, Ledger, postIngestion, scenarioResources, summarise, waitUntil } from '../../helpers/litellm-traffic.js';
import { litellmBatches } from '../../helpers/ingestion-events.js';
import { makeTestCertificates, type TestCertificates } from '../../helpers/test-certificates.js';

const scenario = scenarioResources('bridge-mtls-');
let certs: TestCertificates;
beforeAll(() => {
  certs = makeTestCertificates();
});
afterAll(() => certs.remove());

const serverTls = () => ({ key: certs.read('serverKey'), cert: certs.read('serverCert'), clientCa: certs.read('ca') });
// The first failure of an outage (later ones may be summed up): its message starts so, and it has the reason.
const isExportFailure = (log: BridgeLog) => log.msg.startsWith('export failed; will retry') && typeof log['reason'] === 'string';

it('variables: without the client certificate a clear retryable failure; after a restart with it, every acknowledged span arrives', async () => {
  const collector = await scenario.startCollector({ kind: 'ok' }, { tls: serverTls() });
  const dataDir = scenario.makeDataDir();
  const first = await startBridge({ dataDir, collectorUrl: collector.url, env: { OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.ca } });

  const ledger = new Ledger();
  for (const batch of litellmBatches(`mtls-${Date.now()}`, 40, 10)) expect(ledger.record(batch, await postIngestion(first.url, batch))).toBe(true);
  const failure = await first.waitForLog(isExportFailure, 15_000);
  expect(failure).toMatchObject({ level: 40, destination: 'otlp', reason: expect.stringMatching(/^TLS handshake failed: client certificate required: .*OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE.*\(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)$/) });
  console.log(`[mtls] the failure as logged: ${JSON.stringify(failure)}`);
  expect(collector.collector.requests).toHaveLength(0);
  await stopBridge(first);

  const second = await startBridge({
    dataDir,
    collectorUrl: collector.url,
    env: {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.files.ca,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: certs.files.clientCert,
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: certs.files.clientKey,
    },
  });
  const complete = await waitUntil(() => checkExport(ledger, collector).missing.length === 0, 20_000, 100);
  const check = checkExport(ledger, collector);
  summarise('mTLS via variables', { acknowledged: ledger.acknowledgedEvents(), expectedSpans: check.expected, exported: check.exported, missing: check.missing.length, duplicated: check.duplicated.length });
  expect(complete).toBe(true);
  expect(ledger.acknowledgedEvents()).toBe(80);
  expect(check.duplicated).toEqual([]);
  expect(second.logs.filter(isExportFailure)).toEqual([]);
  await stopBridge(second);
}, 60_000);

it('destinations file: tls.ca_file / cert_file / key_file; a key of another certificate stops the start naming the file', async () => {
  const collector = await scenario.startCollector({ kind: 'ok' }, { tls: serverTls() });
  const destination = (key: string) =>
    ['destinations:', '  - name: secure', '    type: otlp', `    traces_endpoint: ${collector.url}`, '    timeout: 2s', `    tls: { ca_file: ${certs.files.ca}, cert_file: ${certs.files.clientCert}, key_file: ${key} }`].join('\n');

  const wrongKey = scenario.writeBridgeConfig(destination(certs.files.otherClientKey));
  const refused = spawnBridge({ dataDir: scenario.makeDataDir(), collectorUrl: collector.url, env: { BRIDGE_CONFIG: wrongKey } });
  expect((await refused.exited).code).toBe(1);
  expect(refused.stderr()).toContain(`${wrongKey}: destinations[0].tls.key_file: expected the private key of tls.cert_file ('${certs.files.clientCert}') (actual: '${certs.files.otherClientKey}' is the key of another certificate)`);

  const file = scenario.writeBridgeConfig(destination(certs.files.clientKey));
  const bridge = await startBridge({ dataDir: scenario.makeDataDir(), collectorUrl: collector.url, env: { BRIDGE_CONFIG: file } });
  const ledger = new Ledger();
  for (const batch of litellmBatches(`mtls-file-${Date.now()}`, 20, 10)) expect(ledger.record(batch, await postIngestion(bridge.url, batch))).toBe(true);
  expect(await waitUntil(() => checkExport(ledger, collector).missing.length === 0, 20_000, 100)).toBe(true);
  expect(checkExport(ledger, collector).duplicated).toEqual([]);
  expect(bridge.logs.filter(isExportFailure)).toEqual([]);
  await stopBridge(bridge);
}, 60_000);
