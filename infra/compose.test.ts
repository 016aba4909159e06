import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, PROJECT_ROOT } from '../config/config';

/**
 * The compose file held to what the code needs from it: the variables exist, the roles split as
 * intended, and the sandbox hosts can reach the engine with workspaces at the same path on both
 * sides. The stack itself runs in the docker tier (test/docker/compose-stack.docker.test.ts) where
 * an engine can be started, through the host-network override checked here too.
 */
interface ComposeService {
  image?: string;
  network_mode?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  build?: { dockerfile: string };
}

const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.temporal.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const stewardServices = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);

describe('docker-compose.temporal.yml', () => {
  it('runs Steward as an incident service and scalable sandbox hosts, from the Dockerfile that exists', () => {
    expect(stewardServices.map(([name]) => name).sort()).toEqual(['steward', 'steward-sandbox-host']);
    for (const [, service] of stewardServices) expect(fs.existsSync(path.join(PROJECT_ROOT, service.build!.dockerfile))).toBe(true);
    expect(compose.services.steward!.environment!.STEWARD_WORKER_ROLES).toBe('incident');
    expect(compose.services['steward-sandbox-host']!.environment!.STEWARD_WORKER_ROLES).toBe('sandbox');
    expect(compose.services['steward-sandbox-host']!.command).toEqual(['npx', 'tsx', 'workers/worker.main.ts']);
    expect(fs.existsSync(path.join(PROJECT_ROOT, 'workers', 'worker.main.ts'))).toBe(true);
  });

  it('sets only variables the config module reads, and points the sandbox hosts at the engine with the data folder at the same path', () => {
    for (const [name, service] of stewardServices) {
      const unknown = Object.keys(service.environment ?? {}).filter((variable) => !CONFIG_VARIABLES.includes(variable));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
    }
    const host = compose.services['steward-sandbox-host']!;
    expect(host.environment!.STEWARD_SANDBOX_BACKEND).toBe('docker');
    expect(host.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    const dataDir = host.environment!.STEWARD_DATA_DIR!;
    expect(host.volumes).toContain(`${dataDir}:${dataDir}`);
  });
});

describe('docker-compose.host-network.yml (the docker tier\'s override)', () => {
  const override = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.host-network.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };

  it('puts every service the tier starts on the host network, from the locally built images, and nothing on a bridge', () => {
    expect(Object.keys(override.services).sort()).toEqual(['postgres', 'steward', 'steward-sandbox-host', 'temporal']);
    for (const [name, service] of Object.entries(override.services)) {
      expect({ name, network: service.network_mode }).toEqual({ name, network: 'host' });
      expect(service.image).toMatch(/^\$\{STEWARD_(IMAGE|TEMPORAL_IMAGE|POSTGRES_IMAGE):\?\}$/);
      expect(compose.services[name]).toBeDefined();
    }
  });

  it('gives both Steward services one data folder at the same path, with variables the config module reads', () => {
    const dataDirs = new Set<string>();
    for (const name of ['steward', 'steward-sandbox-host']) {
      const service = override.services[name]!;
      const unknown = Object.keys(service.environment ?? {}).filter((variable) => !CONFIG_VARIABLES.includes(variable));
      expect({ name, unknown }).toEqual({ name, unknown: [] });
      const dataDir = service.environment!.STEWARD_DATA_DIR!;
      expect(service.volumes).toContain(`${dataDir}:${dataDir}`);
      dataDirs.add(dataDir);
    }
    expect(dataDirs.size).toBe(1);
    // In the deployment file too: on the embedded defaults the sandbox hosts clone the repository the incident service keeps there.
    const deployed = compose.services.steward!.environment!.STEWARD_DATA_DIR!;
    expect(compose.services.steward!.volumes).toContain(`${deployed}:${deployed}`);
  });
});
