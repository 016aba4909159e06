import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomically } from '../lib/atomic-json';
import { DEFAULT_REGISTRY_HOSTS, RegistryAllowlistProxy, SETUP_FORWARDER_SOURCE } from './registry-allowlist-proxy';

/**
 * The setup phase's only way out of a sandbox: an allowlist proxy on a unix socket, which a
 * forwarder run by node inside the sandbox connects to.
 */

export interface RegistryAccess {
  hosts?: readonly string[];
  ports?: readonly number[];
  /** Only for tests with a loopback registry. */
  allowPrivateAddresses?: boolean;
}

export function registryAllowlist(access: RegistryAccess | undefined): Required<RegistryAccess> {
  return {
    hosts: access?.hosts ?? DEFAULT_REGISTRY_HOSTS,
    ports: access?.ports ?? [443],
    allowPrivateAddresses: access?.allowPrivateAddresses ?? false,
  };
}

export interface SetupNetwork {
  /** The forwarder script, for node inside the sandbox. */
  forwarderPath: string;
  /** The proxy's socket, to bind into the sandbox. */
  socketPath: string;
  /** What the allowlist refused so far, as host or host:port. */
  refusedHosts(): string[];
  close(): Promise<void>;
}

/** Starts a proxy for one setup command, its socket in `runtimeFolder` (where the forwarder script is written once). */
export async function startSetupNetwork(runtimeFolder: string, registry: Required<RegistryAccess>, log: (line: string) => void): Promise<SetupNetwork> {
  const forwarderPath = path.join(runtimeFolder, 'forwarder.cjs');
  if (!fs.existsSync(forwarderPath)) {
    await writeFileAtomically(forwarderPath, SETUP_FORWARDER_SOURCE, { mode: 0o644 });
  }
  const socketPath = path.join(runtimeFolder, `proxy-${process.pid}-${randomBytes(6).toString('hex')}.sock`);
  const proxy = await RegistryAllowlistProxy.start(
    { socketPath },
    { allowedHosts: registry.hosts, allowedPorts: registry.ports, allowPrivateAddresses: registry.allowPrivateAddresses, log },
  );
  // The sandbox uid connects to it; the folder around it lets nobody list or replace it.
  await fs.promises.chmod(socketPath, 0o666);
  return {
    forwarderPath,
    socketPath,
    refusedHosts: () => proxy.refused().map((decision) => `${decision.host}${decision.port === null ? '' : `:${decision.port}`}`),
    close: async () => {
      await proxy.close();
      await fs.promises.rm(socketPath, { force: true });
    },
  };
}
