import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * The docker test tier's engine and images, from scripts/ensure-docker.sh (which installs Debian's
 * docker.io, starts its daemon and builds the images from Debian's packages, cached by the hash of
 * their inputs). It runs when the test file is collected, because jest decides then whether a
 * suite runs or is skipped; where the engine cannot be had, the suites are skipped with the
 * script's own reason, printed.
 */
export type DockerTier =
  | { available: true; images: Record<string, string>; seconds: number; log: string }
  | { available: false; reason: string; seconds: number };

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'ensure-docker.sh');
/** A cold run installs packages, bootstraps Debian and runs npm ci in a build: minutes on 2 cores. */
const COLD_BUDGET_MS = 15 * 60_000;

export function ensureDockerTier(what: 'base' | 'images'): DockerTier {
  const startedAt = Date.now();
  const seconds = (): number => Math.round((Date.now() - startedAt) / 100) / 10;
  if (process.env.STEWARD_DOCKER_TESTS === 'skip') return { available: false, reason: 'skipped on purpose (STEWARD_DOCKER_TESTS=skip)', seconds: 0 };
  const result = spawnSync('bash', [SCRIPT, `--${what}`], { cwd: ROOT, encoding: 'utf8', timeout: COLD_BUDGET_MS, maxBuffer: 16 * 1024 ** 2 });
  const log = `${result.stderr ?? ''}`;
  if (result.error) return { available: false, reason: `no Docker engine here: scripts/ensure-docker.sh did not finish: ${result.error.message}`, seconds: seconds() };
  if (result.status === 3) {
    const line = log.split('\n').find((entry) => entry.startsWith('ensure-docker: unavailable:'));
    return { available: false, reason: `no Docker engine here: ${line ? line.slice('ensure-docker: unavailable: '.length) : 'scripts/ensure-docker.sh exited 3'}`, seconds: seconds() };
  }
  if (result.status !== 0) {
    // Not a machine without an engine: a build that broke. The suites fail on it rather than skip.
    throw new Error(`scripts/ensure-docker.sh --${what} exited ${result.status}:\n${log.slice(-4_000)}`);
  }
  const images: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const match = /^([A-Z_]+)=(.+)$/.exec(line.trim());
    if (match) images[match[1]!] = match[2]!;
  }
  return { available: true, images, seconds: seconds(), log };
}

/** Prints why a docker suite does not run, once, where jest shows it. */
export function reportUnavailable(suite: string, tier: DockerTier): string | null {
  if (tier.available) return null;
  console.log(`${suite}: not run: ${tier.reason}`);
  return tier.reason;
}
