// The deployment examples agree with the bridge's settings: examples/docker-compose.yaml and
// examples/kubernetes/litellm-with-bridge.yaml are parsed and their ports, probe paths, variable
// names and wiring checked (bridge on 3000, /api/public/health and /ready, collector on 4318, the
// same Langfuse keys on both sides). `docker compose config -q` also runs when a Docker CLI with
// the compose plugin is present (it needs no engine); otherwise that one check is skipped.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadServiceConfig } from '../../src/config/service-config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLES = path.join(ROOT, 'examples');
const COMPOSE_FILE = path.join(EXAMPLES, 'docker-compose.yaml');
const K8S_FILE = path.join(EXAMPLES, 'kubernetes', 'litellm-with-bridge.yaml');

/** The bridge's settings that the examples may set (issue 4; src/config reads them). */
const BRIDGE_SETTINGS = new Set([
  'BRIDGE_HOST',
  'BRIDGE_PORT',
  'BRIDGE_CONFIG',
  'BRIDGE_DATA_DIR',
  'BRIDGE_MAPPING',
  'BRIDGE_TRACE_IDLE_MS',
  'LANGFUSE_PUBLIC_KEY',
  'LANGFUSE_SECRET_KEY',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_SERVICE_NAME',
]);
const BRIDGE_PORT = 3000;
const HEALTH_PATH = '/api/public/health';
const READY_PATH = '/api/public/ready';
const COLLECTOR_OTLP_HTTP_PORT = 4318;

type Obj = Record<string, any>;

function readYaml(file: string): Obj {
  return parse(fs.readFileSync(file, 'utf8'), { merge: true }) as Obj;
}

/** Compose `environment` as a map (it may be a list of KEY=VALUE). */
function envMap(env: unknown): Record<string, string> {
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e: string) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries((env ?? {}) as Obj).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** The value compose would use for `${VAR:-default}` when VAR is unset. */
function composeDefault(value: string): string {
  return value.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1').replace(/\$\{[A-Z0-9_]+\}/g, '');
}

/** `${env:NAME...}` variables that collector-config.yaml reads. */
function collectorVariables(): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, 'collector-config.yaml'), 'utf8');
  return new Set([...text.matchAll(/\$\{env:([A-Z0-9_]+)/g)].map((m) => m[1]!));
}

/** Env names the bridge's config module reads, when it exists (a stronger check than the list). */
function namesReadBySource(): string | undefined {
  const file = path.join(ROOT, 'src', 'config', 'service-config.ts');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

function expectKnownBridgeSettings(names: string[]): void {
  const source = namesReadBySource();
  for (const name of names) {
    expect(BRIDGE_SETTINGS.has(name), `${name} is one of the bridge's settings`).toBe(true);
    if (source !== undefined) expect(source.includes(`'${name}'`), `src/config/service-config.ts reads ${name}`).toBe(true);
  }
}

describe('examples/docker-compose.yaml', () => {
  const compose = readYaml(COMPOSE_FILE);
  const services = compose.services as Obj;

  it('has LiteLLM, the bridge, an OTel collector, Jaeger, Tempo and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['bridge', 'grafana', 'jaeger', 'litellm', 'otel-collector', 'tempo']);
  });

  it('builds the bridge from the repository Dockerfile', () => {
    const build = services.bridge.build as Obj;
    const dockerfile = path.resolve(EXAMPLES, build.context as string, (build.dockerfile as string | undefined) ?? 'Dockerfile');
    expect(dockerfile).toBe(path.join(ROOT, 'Dockerfile'));
    expect(fs.existsSync(dockerfile), 'Dockerfile exists at the repository root').toBe(true);
  });

  it("sets only the bridge's settings, with port 3000, /data and the collector's OTLP/HTTP port", () => {
    const env = envMap(services.bridge.environment);
    expectKnownBridgeSettings(Object.keys(env));
    expect(env.BRIDGE_PORT).toBe(String(BRIDGE_PORT));
    expect(env.BRIDGE_HOST).toBe('0.0.0.0');
    expect(env.BRIDGE_DATA_DIR).toBe('/data');
    expect((services.bridge.volumes as string[]).some((v) => v.split(':')[1] === '/data')).toBe(true);
    expect(services.bridge.ports).toContain(`${BRIDGE_PORT}:${BRIDGE_PORT}`);
    const otlp = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect(otlp.hostname).toBe('otel-collector');
    expect(Number(otlp.port)).toBe(COLLECTOR_OTLP_HTTP_PORT);
    const health = (services.bridge.healthcheck.test as string[]).join(' ');
    expect(health).toContain(`:${BRIDGE_PORT}${READY_PATH}`);
  });

  it('points LiteLLM at the bridge with the same Langfuse keys', () => {
    const litellm = envMap(services.litellm.environment);
    const bridge = envMap(services.bridge.environment);
    expect(litellm.LANGFUSE_HOST).toBe(`http://bridge:${BRIDGE_PORT}`);
    for (const key of ['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY']) {
      expect(litellm[key], key).toBeDefined();
      expect(litellm[key]).toBe(bridge[key]);
    }
    expect(services.litellm.depends_on.bridge.condition).toBe('service_healthy');
    const config = parse(fs.readFileSync(path.join(EXAMPLES, 'litellm-config.yaml'), 'utf8')) as Obj;
    expect(config.litellm_settings.success_callback).toContain('langfuse');
    expect(config.litellm_settings.failure_callback).toContain('langfuse');
  });

  it('runs the collector with ../collector-config.yaml, its variables pointing at Jaeger and Tempo', () => {
    const collector = services['otel-collector'] as Obj;
    const mount = (collector.volumes as string[]).find((v) => v.startsWith('../collector-config.yaml:'))!;
    expect(mount).toBeDefined();
    const inContainer = mount.split(':')[1]!;
    expect((collector.command as string[]).join(' ')).toContain(inContainer);
    const env = envMap(collector.environment);
    const known = collectorVariables();
    for (const name of Object.keys(env)) expect(known.has(name), `collector-config.yaml reads ${name}`).toBe(true);
    expect(env.COLLECTOR_OTLP_HTTP_ENDPOINT).toBe(`0.0.0.0:${COLLECTOR_OTLP_HTTP_PORT}`);
    expect(env.JAEGER_OTLP_GRPC_ENDPOINT).toBe('jaeger:4317');
    expect(env.TEMPO_OTLP_HTTP_ENDPOINT).toBe('http://tempo:4318');
    // collector-config.yaml's own default is the same port.
    const cfg = readYaml(path.join(ROOT, 'collector-config.yaml'));
    expect(String(cfg.receivers.otlp.protocols.http.endpoint)).toContain(`:${COLLECTOR_OTLP_HTTP_PORT}`);
  });

  it("provisions Grafana with a Tempo data source on Tempo's query port; Tempo receives OTLP/HTTP on 4318", () => {
    const grafana = services.grafana as Obj;
    const mount = (grafana.volumes as string[]).find((v) => v.split(':')[1] === '/etc/grafana/provisioning/datasources')!;
    expect(mount).toBeDefined();
    const dir = path.resolve(EXAMPLES, mount.split(':')[0]!);
    const sources = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => (readYaml(path.join(dir, f)).datasources as Obj[]) ?? []);
    const tempoSource = sources.find((s) => s.type === 'tempo');
    expect(tempoSource, 'a Tempo data source').toBeDefined();
    const tempoMount = (services.tempo.volumes as string[])[0]!;
    const tempoCfg = readYaml(path.resolve(EXAMPLES, tempoMount.split(':')[0]!));
    expect(new URL(tempoSource!.url as string).port).toBe(String(tempoCfg.server.http_listen_port));
    expect(tempoCfg.distributor.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
  });

  it('uses defaults for every ${VAR} so that it works without an .env file', () => {
    const text = fs.readFileSync(COMPOSE_FILE, 'utf8');
    const bare = [...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
    expect(bare).toEqual([]);
    expect(composeDefault(envMap(services.bridge.environment).LANGFUSE_PUBLIC_KEY!)).toMatch(/^pk-lf-/);
  });

  const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  const hasCompose = docker.status === 0;
  it.skipIf(!hasCompose)('passes `docker compose config -q`', () => {
    const res = spawnSync('docker', ['compose', '-f', COMPOSE_FILE, 'config', '-q'], { encoding: 'utf8', cwd: ROOT });
    expect(res.status, `${res.stdout}${res.stderr}`).toBe(0);
  });
  if (!hasCompose) {
    it('notes that `docker compose config -q` was skipped', () => {
      console.warn(
        '[examples] skipped `docker compose config -q`: no Docker CLI with the compose plugin here ' +
          `(\`docker compose version\`: ${(docker.stderr || docker.error?.message || '').replace(/\s+/g, ' ').trim() || 'failed'})`,
      );
    });
  }
});

describe('examples/langfuse-and-jaeger: LiteLLM → bridge → Langfuse v4 and Jaeger', () => {
  const dir = path.join(EXAMPLES, 'langfuse-and-jaeger');
  const composeFile = path.join(dir, 'docker-compose.yaml');
  const compose = readYaml(composeFile);
  const services = compose.services as Obj;
  const bridgeEnv = envMap(services.bridge.environment);
  const mount = (services.bridge.volumes as string[]).find((v) => v.split(':')[1] === bridgeEnv.BRIDGE_CONFIG)!;
  const configFile = mount && path.resolve(dir, mount.split(':')[0]!);
  const configText = configFile ? fs.readFileSync(configFile, 'utf8') : '';
  // Values only (the comments mention ${env:NAME} too).
  const configValues = JSON.stringify(configText ? parse(configText) : {});
  const configVariables = new Set([...configValues.matchAll(/\$\{env:([A-Za-z0-9_]+)/g)].map((m) => m[1]!));

  it('has LiteLLM, the bridge and Jaeger; the bridge is built from the repository Dockerfile', () => {
    expect(Object.keys(services).sort()).toEqual(['bridge', 'jaeger', 'litellm']);
    const build = services.bridge.build as Obj;
    expect(path.resolve(dir, build.context as string, (build.dockerfile as string | undefined) ?? 'Dockerfile')).toBe(path.join(ROOT, 'Dockerfile'));
  });

  it('mounts the BRIDGE_CONFIG file and passes every variable it reads', () => {
    expect(mount, `a volume mounted at BRIDGE_CONFIG (${bridgeEnv.BRIDGE_CONFIG})`).toBeDefined();
    expect(fs.existsSync(configFile!)).toBe(true);
    for (const name of configVariables) expect(bridgeEnv[name], `the bridge's environment sets ${name}`).toBeDefined();
    expectKnownBridgeSettings(Object.keys(bridgeEnv).filter((name) => !configVariables.has(name)));
  });

  it('resolves to a langfuse destination and an otlp destination at Jaeger', () => {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(bridgeEnv)) env[name] = composeDefault(value);
    Object.assign(env, { BRIDGE_CONFIG: configFile!, LANGFUSE_V4_PUBLIC_KEY: 'pk-lf-project', LANGFUSE_V4_SECRET_KEY: 'sk-lf-project' });
    const config = loadServiceConfig(env);
    expect(config.destinations.map((d) => [d.name, d.type, d.mapping, d.captureContent])).toEqual([
      ['langfuse', 'langfuse', 'langfuse', true],
      ['jaeger', 'otlp', 'genai', false],
    ]);
    const [langfuse, jaeger] = config.destinations;
    expect(langfuse).toMatchObject({ url: 'https://cloud.langfuse.com/api/public/otel/v1/traces', publicKey: 'pk-lf-project', compression: 'gzip' });
    const jaegerUrl = new URL((jaeger as { url: string }).url);
    expect(jaegerUrl.hostname).toBe('jaeger');
    expect(jaegerUrl.port).toBe('4318');
    expect(envMap(services.jaeger.environment).JAEGER_LISTEN_HOST).toBe('0.0.0.0');
  });

  it('points LiteLLM at the bridge with the same client key pair, and has defaults for every ${VAR}', () => {
    const litellm = envMap(services.litellm.environment);
    expect(litellm.LANGFUSE_HOST).toBe(`http://bridge:${BRIDGE_PORT}`);
    for (const key of ['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY']) expect(litellm[key]).toBe(bridgeEnv[key]);
    expect([...fs.readFileSync(composeFile, 'utf8').matchAll(/\$\{([A-Z0-9_]+)\}/g)]).toEqual([]);
    expect(fs.existsSync(path.resolve(dir, (services.litellm.volumes as string[])[0]!.split(':')[0]!))).toBe(true);
  });
});

describe('examples/kubernetes/litellm-with-bridge.yaml', () => {
  const docs = parseAllDocuments(fs.readFileSync(K8S_FILE, 'utf8'))
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
  const byKind = (kind: string): Obj[] => docs.filter((d) => d.kind === kind);
  const deployment = byKind('Deployment')[0]!;
  const pod = deployment?.spec.template.spec as Obj;
  const allContainers = [...((pod?.containers as Obj[]) ?? []), ...((pod?.initContainers as Obj[]) ?? [])];
  const bridge = allContainers.find((c) => String(c.image).includes('langfuse-otel-bridge'))!;
  const litellm = allContainers.find((c) => String(c.image).includes('litellm') && c !== bridge)!;

  const envOf = (c: Obj): Record<string, Obj> => Object.fromEntries(((c.env as Obj[]) ?? []).map((e) => [e.name as string, e]));
  const portNumber = (c: Obj, port: number | string): number =>
    typeof port === 'number' ? port : Number((c.ports as Obj[]).find((p) => p.name === port)?.containerPort);

  it('has a Secret, a Deployment with LiteLLM and the bridge in one pod, and a Service', () => {
    expect(byKind('Secret')).toHaveLength(1);
    expect(byKind('Deployment')).toHaveLength(1);
    expect(byKind('Service').length).toBeGreaterThanOrEqual(1);
    expect(bridge, 'a bridge container').toBeDefined();
    expect(litellm, 'a LiteLLM container').toBeDefined();
    // A sidecar: a regular container, or a native sidecar (init container that keeps running).
    const isNativeSidecar = ((pod.initContainers as Obj[]) ?? []).includes(bridge);
    if (isNativeSidecar) expect(bridge.restartPolicy).toBe('Always');
  });

  it('shares LANGFUSE_PUBLIC_KEY/SECRET_KEY from one Secret between LiteLLM and the bridge', () => {
    const secret = byKind('Secret')[0]!;
    const data = { ...(secret.stringData as Obj), ...(secret.data as Obj) };
    expect(Object.keys(data)).toEqual(expect.arrayContaining(['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY']));
    const secretName = secret.metadata.name as string;
    for (const c of [litellm, bridge]) {
      const fromEnvFrom = ((c.envFrom as Obj[]) ?? []).some((e) => e.secretRef?.name === secretName);
      const env = envOf(c);
      const fromKeyRefs = ['LANGFUSE_PUBLIC_KEY', 'LANGFUSE_SECRET_KEY'].every(
        (k) => env[k]?.valueFrom?.secretKeyRef?.name === secretName,
      );
      expect(fromEnvFrom || fromKeyRefs, `${c.name} gets the keys from Secret ${secretName}`).toBe(true);
    }
  });

  it('points LiteLLM at the sidecar: LANGFUSE_HOST=http://localhost:3000', () => {
    expect(envOf(litellm).LANGFUSE_HOST?.value).toBe(`http://localhost:${BRIDGE_PORT}`);
  });

  it("sets only the bridge's settings; port 3000; probes on /api/public/ready and /api/public/health", () => {
    const env = envOf(bridge);
    expectKnownBridgeSettings(Object.keys(env));
    expect(env.BRIDGE_PORT?.value).toBe(String(BRIDGE_PORT));
    expect((bridge.ports as Obj[]).map((p) => p.containerPort)).toContain(BRIDGE_PORT);
    expect(bridge.readinessProbe.httpGet.path).toBe(READY_PATH);
    expect(portNumber(bridge, bridge.readinessProbe.httpGet.port)).toBe(BRIDGE_PORT);
    expect(bridge.livenessProbe.httpGet.path).toBe(HEALTH_PATH);
    expect(portNumber(bridge, bridge.livenessProbe.httpGet.port)).toBe(BRIDGE_PORT);
    const otlp = new URL(String(env.OTEL_EXPORTER_OTLP_ENDPOINT?.value));
    expect(Number(otlp.port)).toBe(COLLECTOR_OTLP_HTTP_PORT);
  });

  it('mounts a volume at BRIDGE_DATA_DIR', () => {
    const dataDir = envOf(bridge).BRIDGE_DATA_DIR?.value as string;
    expect(dataDir).toBeTruthy();
    const mount = ((bridge.volumeMounts as Obj[]) ?? []).find((m) => m.mountPath === dataDir);
    expect(mount, `a volumeMount at ${dataDir}`).toBeDefined();
    expect(((pod.volumes as Obj[]) ?? []).map((v) => v.name)).toContain(mount!.name);
  });
});

describe('examples/kubernetes/gateway.yaml', () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(EXAMPLES, 'kubernetes', 'gateway.yaml'), 'utf8')).map((d) => d.toJS() as Obj);
  const deployment = docs.find((d) => d.kind === 'Deployment')!;
  const secret = docs.find((d) => d.kind === 'Secret')!;
  const service = docs.find((d) => d.kind === 'Service')!;
  const container = deployment.spec.template.spec.containers[0];

  it('three replicas behind a Service, ready on /api/public/ready', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(container.readinessProbe.httpGet.path).toBe(READY_PATH);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it("its settings (the Secret's and the container's) are a valid gateway-mode configuration", () => {
    const env: Record<string, string> = { ...secret.stringData };
    for (const e of container.env as Array<{ name: string; value: string }>) env[e.name] = e.value;
    const config = loadServiceConfig(env);
    expect(config.kafka).toMatchObject({ brokers: ['kafka-0.kafka:9093', 'kafka-1.kafka:9093', 'kafka-2.kafka:9093'], partitions: 64, sasl: { mechanism: 'scram-sha-512' }, tls: { rejectUnauthorized: true } });
    expect(container.ports[0].containerPort).toBe(config.port);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.shutdownTimeoutMillis);
  });
});
