import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/config';
import type { Monitor } from '../ports/monitors.port';

/**
 * The bundled demo's world: the checkout-service as a local git repository (the code host), its
 * Datadog monitor (seeded into the monitor store by workers/demo-monitor.ts) and its alert. The
 * repository is created once and then reused, so the PR branches Steward writes survive between runs.
 */

export const DEMO_SOURCE_DIR = path.join(PROJECT_ROOT, 'demo', 'checkout-service');
export const DEMO_ALERT_PATH = path.join(PROJECT_ROOT, 'demo', 'alert.json');
const DEMO_MONITOR_PATH = path.join(PROJECT_ROOT, 'demo', 'monitor.json');

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } }).trim();
}

/** Creates the demo repository under the data folder if it is missing; returns its deployed revision. */
export function ensureDemoRepository(repositoryPath: string): string {
  if (!fs.existsSync(path.join(repositoryPath, '.git'))) {
    const staging = `${repositoryPath}.staging-${process.pid}`;
    fs.rmSync(staging, { recursive: true, force: true });
    fs.cpSync(DEMO_SOURCE_DIR, staging, { recursive: true });
    git(staging, ['init', '--quiet', '--initial-branch=main']);
    git(staging, ['add', '-A']);
    // Fixed identity and dates: every fresh demo repository gets the same commit id.
    const identity = {
      GIT_AUTHOR_NAME: 'Checkout Team',
      GIT_AUTHOR_EMAIL: 'checkout@example.com',
      GIT_COMMITTER_NAME: 'Checkout Team',
      GIT_COMMITTER_EMAIL: 'checkout@example.com',
      GIT_AUTHOR_DATE: '2026-11-01T09:00:00Z',
      GIT_COMMITTER_DATE: '2026-11-01T09:00:00Z',
    };
    git(staging, ['-c', 'commit.gpgsign=false', 'commit', '--quiet', '-m', 'checkout-service 1.4.2'], identity);
    fs.mkdirSync(path.dirname(repositoryPath), { recursive: true });
    fs.renameSync(staging, repositoryPath);
  }
  return git(repositoryPath, ['rev-parse', 'main']);
}

export function demoMonitor(): Omit<Monitor, 'createdBySteward'> {
  return JSON.parse(fs.readFileSync(DEMO_MONITOR_PATH, 'utf8')) as Omit<Monitor, 'createdBySteward'>;
}

/** The demo alert as Datadog would post it, for a new alert cycle at the given revision. */
export function demoAlertPayload(options: { alertCycleKey: string; deployedRevision: string; monitorId?: string; date?: Date }): Record<string, string> {
  const template = JSON.parse(fs.readFileSync(DEMO_ALERT_PATH, 'utf8')) as Record<string, string>;
  return {
    ...template,
    monitor_id: options.monitorId ?? template.monitor_id!,
    alert_cycle_key: options.alertCycleKey,
    tags: template.tags!.replace('DEPLOYED_SHA', options.deployedRevision),
    date: String((options.date ?? new Date()).getTime()),
  };
}
