import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CONFIG_VARIABLES, loadConfig, PROJECT_ROOT } from '../config/config';
import { makeTestCertificates, type TestCertificates } from '../test/support/tls-certificates';

/**
 * No Kubernetes runs where Steward is developed, so the chart is held to what can be checked
 * without one: `helm lint` and `helm template` with the helm that scripts/ensure-tools.sh builds,
 * and the rendered manifests against Steward's configuration schema, as infra/compose.test.ts holds
 * the compose file: every variable a container gets is one Steward reads, and the environment each
 * container would see, with its mounted files in place, passes loadConfig.
 */

const HELM = path.join(PROJECT_ROOT, '.tools', 'bin', 'helm');
const CHART = path.join(PROJECT_ROOT, 'infra', 'helm', 'steward');
const CI_VALUES = fs.readdirSync(path.join(CHART, 'ci')).filter((file) => file.endsWith('-values.yaml')).sort();
/** helm built with `go install` carries no Kubernetes version of its own (it would assume 1.20). */
const KUBE_VERSION = '1.33.0';
const VALID_REQUIRED = ['--set', 'temporal.address=temporal:7233', '--set', 'postgres.url=postgres://steward@postgres/steward', '--set', 'secrets.values.STEWARD_WEBHOOK_TOKEN=ci-webhook-token-0123456789'];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  command: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext: Record<string, unknown> & { capabilities?: { drop?: string[]; add?: string[] } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
  hostUsers?: boolean;
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: { spec: PodSpec };
    selector?: Record<string, unknown> & { matchLabels?: Record<string, string> };
    serviceName?: string;
    clusterIP?: string;
    volumeClaimTemplates?: { metadata: { name: string } }[];
    ports?: { targetPort: string | number }[];
  };
}

function helm(args: string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync(HELM, args, { cwd: PROJECT_ROOT, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

function render(args: string[]): Manifest[] {
  const run = helm(['template', 'steward', CHART, '--kube-version', KUBE_VERSION, ...args]);
  if (run.status !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${run.stderr}`);
  return parseAllDocuments(run.stdout)
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** The message helm stops with, for values it must refuse. */
function refusal(args: string[]): string {
  const run = helm(['template', 'steward', CHART, '--kube-version', KUBE_VERSION, ...args]);
  expect(run.status).not.toBe(0);
  return run.stderr;
}

const workload = (manifests: Manifest[], kind: string, name: string): Manifest => {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')}`);
  return found;
};
const podOf = (manifest: Manifest): PodSpec => manifest.spec!.template!.spec;
const allContainers = (pod: PodSpec): Container[] => [...(pod.initContainers ?? []), ...pod.containers];
const envValue = (container: Container, name: string): string | undefined => container.env?.find((variable) => variable.name === name)?.value;

let certs: TestCertificates;
let scratch: string;
beforeAll(() => {
  if (!fs.existsSync(HELM)) throw new Error(`helm is not installed at ${HELM}: run bash scripts/ensure-tools.sh (npm test does)`);
  certs = makeTestCertificates();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-helm-'));
});
afterAll(() => {
  certs?.remove();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/**
 * The environment a container would start with: its own values, its ConfigMaps' and Secrets' keys
 * where the chart renders them, a stand-in for a Secret the operator brings (its key names the
 * variable, so the stand-in is labelled as such), and every mounted file's path replaced by a real
 * file of the same kind.
 */
function effectiveEnv(container: Container, pod: PodSpec, manifests: Manifest[]): NodeJS.ProcessEnv {
  const rendered = (kind: string, name: string): Record<string, string> | null => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    return found ? { ...(found.data ?? {}), ...(found.stringData ?? {}) } : null;
  };
  const env: NodeJS.ProcessEnv = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, rendered('ConfigMap', source.configMapRef.name) ?? {});
    if (source.secretRef) Object.assign(env, rendered('Secret', source.secretRef.name) ?? { STEWARD_WEBHOOK_TOKEN: 'stand-in-for-an-operator-secret' });
  }
  const operatorSecretStandIns: Record<string, string> = { DATABASE_URL: 'postgres://stand-in@postgres/steward', TEMPORAL_API_KEY: 'stand-in-api-key' };
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (ref) env[variable.name] = rendered('Secret', ref.name)?.[ref.key] ?? operatorSecretStandIns[variable.name];
  }
  // Files the pod would have mounted: the Temporal certificates from their Secrets, the services file from its ConfigMap.
  const standInFiles: Record<string, string> = { 'tls.crt': certs.clientCert, 'tls.key': certs.clientKey, 'ca.crt': certs.caCert };
  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    for (const [name, value] of Object.entries(env)) {
      if (!value?.startsWith(`${mount.mountPath}/`)) continue;
      const file = path.basename(value);
      if (volume?.configMap) {
        const local = path.join(scratch, `${volume.configMap.name}-${file}`);
        fs.writeFileSync(local, rendered('ConfigMap', volume.configMap.name)![file]!);
        env[name] = local;
      } else if (volume?.secret) {
        env[name] = standInFiles[file] ?? standInFiles[path.extname(file) === '.key' ? 'tls.key' : 'tls.crt'];
      }
    }
  }
  return env;
}

describe('the Helm chart', () => {
  it('names in steward-variables.json exactly the variables config/config.ts reads, so that helm refuses the same names Steward would not read', () => {
    const listed = JSON.parse(fs.readFileSync(path.join(CHART, 'steward-variables.json'), 'utf8')) as string[];
    const expected = [...CONFIG_VARIABLES].sort();
    const regenerate = `npx tsx -e "import { CONFIG_VARIABLES } from './config/config'; console.log(JSON.stringify([...CONFIG_VARIABLES].sort(), null, 1))" > infra/helm/steward/steward-variables.json`;
    expect({ missing: expected.filter((n) => !listed.includes(n)), stale: listed.filter((n) => !expected.includes(n)), regenerate }).toEqual({ missing: [], stale: [], regenerate });
    expect(listed).toEqual(expected);
  });

  it.each(CI_VALUES)('passes helm lint --strict with ci/%s', (file) => {
    const run = helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, '-f', path.join(CHART, 'ci', file)]);
    expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: expect.stringContaining('1 chart(s) linted, 0 chart(s) failed') });
  });

  describe.each(CI_VALUES)('rendered with ci/%s', (file) => {
    let manifests: Manifest[];
    beforeAll(() => {
      manifests = render(['-f', path.join(CHART, 'ci', file)]);
    });

    it('runs the API as a Deployment behind a Service, the incident workers as a Deployment and the sandbox hosts as a StatefulSet, by role', () => {
      const api = workload(manifests, 'Deployment', 'steward-api');
      const service = workload(manifests, 'Service', 'steward-api');
      expect(service.spec!.selector).toEqual(api.spec!.selector!.matchLabels);
      expect(service.spec!.ports![0]!.targetPort).toBe('http');
      expect(podOf(api).containers[0]!.command).toEqual(['node_modules/.bin/tsx', 'workers/api.main.ts']);

      const incident = podOf(workload(manifests, 'Deployment', 'steward-incident-worker')).containers[0]!;
      expect(incident.command).toEqual(['node_modules/.bin/tsx', 'workers/worker.main.ts']);
      expect(envValue(incident, 'STEWARD_WORKER_ROLES')).toBe('incident');

      const hosts = workload(manifests, 'StatefulSet', 'steward-sandbox-host');
      const host = podOf(hosts).containers[0]!;
      expect(envValue(host, 'STEWARD_WORKER_ROLES')).toBe('sandbox');
      expect(envValue(host, 'STEWARD_SANDBOX_BACKEND')).toBe('bubblewrap');
      // The host id, and with it the host's own task queue, lives under the data folder: on the host's own volume.
      expect(hosts.spec!.volumeClaimTemplates!.map((claim) => claim.metadata.name)).toEqual(['data']);
      expect(host.volumeMounts).toContainEqual({ name: 'data', mountPath: envValue(host, 'STEWARD_DATA_DIR') });
      expect(workload(manifests, 'Service', hosts.spec!.serviceName!).spec!.clusterIP).toBe('None');

      for (const container of [podOf(api).containers[0]!, incident, host, ...(podOf(workload(manifests, 'Deployment', 'steward-incident-worker')).initContainers ?? [])]) {
        expect(fs.existsSync(path.join(PROJECT_ROOT, container.command[1]!))).toBe(true);
      }
    });

    it('sets only variables Steward reads, in env, ConfigMaps and Secrets alike', () => {
      const names = new Set<string>();
      for (const manifest of manifests) {
        if (manifest.kind === 'ConfigMap' && manifest.metadata.name.endsWith('-config')) Object.keys(manifest.data ?? {}).forEach((n) => names.add(n));
        if (manifest.kind === 'Secret') Object.keys(manifest.stringData ?? {}).forEach((n) => names.add(n));
        const pod = manifest.spec?.template?.spec;
        for (const container of pod ? allContainers(pod) : []) for (const variable of container.env ?? []) names.add(variable.name);
      }
      expect([...names].filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
      expect(names.size).toBeGreaterThan(5);
    });

    it('gives every container an environment that loadConfig takes, with Temporal, Postgres and the webhook token set', () => {
      for (const manifest of manifests.filter((m) => m.spec?.template)) {
        const pod = podOf(manifest);
        // Service links would add <SERVICE>_PORT=tcp://… variables; the API's Service would make STEWARD_API_PORT one.
        expect({ workload: manifest.metadata.name, enableServiceLinks: pod.enableServiceLinks, token: pod.automountServiceAccountToken }).toEqual({
          workload: manifest.metadata.name,
          enableServiceLinks: false,
          token: false,
        });
        for (const container of allContainers(pod)) {
          const config = loadConfig(effectiveEnv(container, pod, manifests));
          expect({ container: container.name, address: config.temporal.address, database: config.databaseUrl !== null }).toEqual({
            container: container.name,
            address: expect.stringMatching(/:\d+$/),
            database: true,
          });
          if (container.name === 'api') expect(config.api.webhookToken).not.toBeNull();
          if (envValue(container, 'TEMPORAL_TLS_CLIENT_CERT_PATH')) expect(config.temporal.security.tls!.clientCertPair).not.toBeNull();
          if (container.env?.some((variable) => variable.name === 'TEMPORAL_API_KEY')) expect(config.temporal.security).toMatchObject({ transport: 'tls', apiKey: expect.any(String) });
        }
      }
    });

    it('probes /readyz for the API\'s readiness on its port, /healthz for liveness and readiness of the workers on their health port', () => {
      const api = podOf(workload(manifests, 'Deployment', 'steward-api')).containers[0]!;
      const apiPort = api.ports!.find((port) => port.name === 'http')!.containerPort;
      expect(String(apiPort)).toBe(envValue(api, 'STEWARD_API_PORT'));
      expect(api.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(api.livenessProbe!.tcpSocket).toEqual({ port: 'http' });
      for (const worker of [podOf(workload(manifests, 'Deployment', 'steward-incident-worker')).containers[0]!, podOf(workload(manifests, 'StatefulSet', 'steward-sandbox-host')).containers[0]!]) {
        const healthPort = worker.ports!.find((port) => port.name === 'health')!.containerPort;
        expect(String(healthPort)).toBe(envValue(worker, 'STEWARD_WORKER_HEALTH_PORT'));
        for (const probe of [worker.livenessProbe, worker.readinessProbe, worker.startupProbe]) expect(probe!.httpGet).toEqual({ path: '/healthz', port: 'health' });
      }
    });

    it('keeps privileges to the sandbox hosts: the API and incident workers run as non-root with no capability', () => {
      for (const name of ['steward-api', 'steward-incident-worker']) {
        for (const container of allContainers(podOf(workload(manifests, 'Deployment', name)))) {
          expect(container.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
          expect(container.securityContext.capabilities!.add).toBeUndefined();
          expect(container.securityContext.privileged).toBeUndefined();
        }
      }
    });
  });

  it('gives the sandbox hosts, in userns isolation, their own user namespace and only the capabilities bubblewrap needs', () => {
    const hosts = podOf(workload(render(VALID_REQUIRED), 'StatefulSet', 'steward-sandbox-host'));
    expect(hosts.hostUsers).toBe(false);
    expect(hosts.containers[0]!.securityContext).toEqual({
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: true,
      capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'SETUID', 'SETGID', 'CHOWN', 'FOWNER', 'DAC_OVERRIDE', 'KILL'] },
      procMount: 'Unmasked',
      appArmorProfile: { type: 'Unconfined' },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it("annotates every pod for Prometheus at its /metrics port, and serves the Temporal SDK's metrics only when given a port", () => {
    const manifests = render(VALID_REQUIRED);
    const annotations = (kind: string, name: string) => (workload(manifests, kind, name).spec!.template as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations;
    expect(annotations('Deployment', 'steward-api')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8787', 'prometheus.io/path': '/metrics' });
    expect(annotations('Deployment', 'steward-incident-worker')).toMatchObject({ 'prometheus.io/port': '8788' });
    expect(annotations('StatefulSet', 'steward-sandbox-host')).toMatchObject({ 'prometheus.io/port': '8788' });
    expect(envValue(podOf(workload(manifests, 'Deployment', 'steward-incident-worker')).containers[0]!, 'STEWARD_TEMPORAL_METRICS_PORT')).toBeUndefined();

    const withSdk = render([...VALID_REQUIRED, '--set', 'metrics.temporalSdkPort=9464', '--set', 'metrics.scrapeAnnotations=false']);
    for (const [kind, name] of [['Deployment', 'steward-incident-worker'], ['StatefulSet', 'steward-sandbox-host']] as const) {
      const container = podOf(workload(withSdk, kind, name)).containers[0]!;
      expect(envValue(container, 'STEWARD_TEMPORAL_METRICS_PORT')).toBe('9464');
      expect((container as unknown as { ports: { name: string; containerPort: number }[] }).ports).toContainEqual({ name: 'temporal-metrics', containerPort: 9464 });
      expect((workload(withSdk, kind, name).spec!.template as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations['prometheus.io/scrape']).toBeUndefined();
    }
    expect(refusal([...VALID_REQUIRED, '--set', 'config.STEWARD_TEMPORAL_METRICS_PORT=9464'])).toContain('the chart sets STEWARD_TEMPORAL_METRICS_PORT itself');
  });

  it('makes the sandbox hosts privileged, in the host user namespace, only when isolation is privileged', () => {
    const hosts = podOf(workload(render([...VALID_REQUIRED, '--set', 'sandboxHost.isolation=privileged']), 'StatefulSet', 'steward-sandbox-host'));
    expect(hosts.hostUsers).toBeUndefined();
    expect(hosts.containers[0]!.securityContext).toEqual({ runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, privileged: true });
  });

  it.each([
    [['--set', 'config.STEWARD_APPROVAL_TIMOUT=4h'], 'config.STEWARD_APPROVAL_TIMOUT: Steward reads no variable STEWARD_APPROVAL_TIMOUT'],
    [['--set', 'secrets.values.SLACK_TOKEN=x'], 'secrets.values.SLACK_TOKEN: Steward reads no variable SLACK_TOKEN'],
    [['--set', 'config.STEWARD_WORKER_ROLES=incident'], 'config.STEWARD_WORKER_ROLES: the chart sets STEWARD_WORKER_ROLES itself'],
    [['--set', 'secrets.values.DATABASE_URL=postgres://x@y/z'], 'secrets.values.DATABASE_URL: the chart sets DATABASE_URL itself'],
    [['--set', 'sandboxHost.isolation=none'], 'sandboxHost.isolation is userns or privileged'],
  ])('refuses %j, saying why', (extra, message) => {
    expect(refusal([...VALID_REQUIRED, ...extra])).toContain(message);
  });

  it.each([
    ['temporal.address', 'temporal.address is required'],
    ['postgres.url', 'postgres.url or postgres.existingSecret.name is required'],
    ['secrets.values.STEWARD_WEBHOOK_TOKEN', 'secrets.values.STEWARD_WEBHOOK_TOKEN is required'],
  ])('refuses to render without %s', (missing, message) => {
    const args = VALID_REQUIRED.filter((arg, i, all) => !(arg.startsWith(`${missing}=`) || all[i + 1]?.startsWith(`${missing}=`)));
    expect(refusal(args)).toContain(message);
  });

  it('passes the chart-made Secret and ConfigMap values through as strings', () => {
    const manifests = render([...VALID_REQUIRED, '--set', 'config.STEWARD_MAX_FIX_ATTEMPTS=5', '--set-string', 'config.SLACK_CHANNEL=#incidents']);
    expect(workload(manifests, 'ConfigMap', 'steward-config').data).toEqual({ STEWARD_MAX_FIX_ATTEMPTS: '5', SLACK_CHANNEL: '#incidents' });
    expect(execFileSync(HELM, ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v3\./);
  });
});
