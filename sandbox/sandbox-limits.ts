import type { SandboxLimits } from './sandbox.port';

/** The defaults the isolating backends (bubblewrap, docker) share, so that neither has to import the other. */

/** The unprivileged host user commands run as, unless told otherwise; snapshots are handed to it when built. */
export const DEFAULT_SANDBOX_USER = { uid: 65534, gid: 65534 } as const;

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  cpuSeconds: 15 * 60,
  memoryBytes: 2 * 1024 ** 3,
  processes: 256,
  diskBytes: 4 * 1024 ** 3,
  tmpBytes: 512 * 1024 ** 2,
  cpus: 2,
};
