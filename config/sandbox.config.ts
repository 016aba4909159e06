import { z } from 'zod';
import { durationMs, type EnvOf } from './env';

/** How sandboxes are isolated and limited, and how their workspace snapshots are kept warm. */
export const SNAPSHOT_DEFAULTS = {
  refreshEveryMs: 30 * 60_000,
  maxAgeMs: 7 * 86_400_000,
  diskBudgetBytes: 50 * 1024 ** 3,
} as const;

export const sandboxEnv = {
  STEWARD_SANDBOX_BACKEND: z.enum(['auto', 'bubblewrap', 'process', 'docker']).default('auto'),
  STEWARD_SANDBOX_SNAPSHOTS: z.enum(['on', 'off']).default('on'),
  STEWARD_SANDBOX_DOCKER_IMAGE: z.string().min(1).default('node:20-bookworm-slim'),
  STEWARD_SANDBOX_MEMORY_MB: z.coerce.number().int().min(64).default(2048),
  STEWARD_SANDBOX_PROCESSES: z.coerce.number().int().min(16).default(256),
  STEWARD_SANDBOX_DISK_MB: z.coerce.number().int().min(64).default(4096),
  STEWARD_SANDBOX_CPU_SECONDS: z.coerce.number().int().min(1).default(900),
  STEWARD_SANDBOX_CPUS: z.coerce.number().min(0).default(2),
  STEWARD_SNAPSHOT_REFRESH_EVERY: durationMs.default(SNAPSHOT_DEFAULTS.refreshEveryMs),
  STEWARD_SNAPSHOT_MAX_AGE: durationMs.default(SNAPSHOT_DEFAULTS.maxAgeMs),
  STEWARD_SNAPSHOT_DISK_BUDGET_MB: z.coerce.number().int().min(0).default(SNAPSHOT_DEFAULTS.diskBudgetBytes / 1024 ** 2),
};

export interface SandboxConfig {
  /** auto: bubblewrap where this machine can run it, else the process-level backend, said loudly at start. */
  backend: 'auto' | 'bubblewrap' | 'process' | 'docker';
  snapshots: boolean;
  dockerImage: string;
  limits: { memoryBytes: number; processes: number; diskBytes: number; cpuSeconds: number; cpus: number | null };
  snapshotRefreshEveryMs: number;
  snapshotGarbage: { maxAgeMs: number; maxBytes: number };
}

export function sandboxConfig(e: EnvOf<typeof sandboxEnv>): SandboxConfig {
  return {
    backend: e.STEWARD_SANDBOX_BACKEND,
    snapshots: e.STEWARD_SANDBOX_SNAPSHOTS === 'on',
    dockerImage: e.STEWARD_SANDBOX_DOCKER_IMAGE,
    limits: {
      memoryBytes: e.STEWARD_SANDBOX_MEMORY_MB * 1024 ** 2,
      processes: e.STEWARD_SANDBOX_PROCESSES,
      diskBytes: e.STEWARD_SANDBOX_DISK_MB * 1024 ** 2,
      cpuSeconds: e.STEWARD_SANDBOX_CPU_SECONDS,
      cpus: e.STEWARD_SANDBOX_CPUS === 0 ? null : e.STEWARD_SANDBOX_CPUS,
    },
    snapshotRefreshEveryMs: e.STEWARD_SNAPSHOT_REFRESH_EVERY,
    snapshotGarbage: { maxAgeMs: e.STEWARD_SNAPSHOT_MAX_AGE, maxBytes: e.STEWARD_SNAPSHOT_DISK_BUDGET_MB * 1024 ** 2 },
  };
}
