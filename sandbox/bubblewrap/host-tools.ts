import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';

/** The host tools the backend runs as root (mount, mkfs, prlimit, setpriv), found on this PATH only. */
export const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function runTool(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { PATH: TOOL_PATH, LANG: 'C.UTF-8' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(stewardFailure(ERROR_TYPES.sandboxUnavailable, `${command} ${args.join(' ')} failed (exit ${code}): ${stderr.trim()}`)),
    );
  });
}

export function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${+(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
