import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, PROJECT_ROOT } from '../config/config';

/**
 * The compose deployment cannot be started where Steward is developed (no Docker engine), so its
 * file is held to what the code needs from it: the variables exist, the roles split as intended,
 * and the sandbox hosts can reach the engine with workspaces at the same path on both sides.
 */
interface ComposeService {
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
