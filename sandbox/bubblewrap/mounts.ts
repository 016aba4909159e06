import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { untraversableFolder } from '../../lib/reachable-folder';

/**
 * What the host's mount table says (for cgroups, disks and views), which host folders a sandbox
 * sees read-only, and the checks that a folder can be bound into it.
 */

/** HOME of the commands inside the sandbox. */
export const SANDBOX_HOME = '/home/sandbox';
const MERGED_USR_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

export interface MountInfo {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

export function readMountInfo(): MountInfo[] {
  const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const fields = line.split(' ');
      const separator = fields.indexOf('-');
      return { root: unescape(fields[3]), mountPoint: unescape(fields[4]), fsType: fields[separator + 1], superOptions: fields[separator + 3] ?? '' };
    });
}

export async function mountsAtOrBelow(folder: string): Promise<string[]> {
  const prefix = `${folder}/`;
  return readMountInfo()
    .map((mount) => mount.mountPoint)
    .filter((mountPoint) => mountPoint === folder || mountPoint.startsWith(prefix));
}

export interface SystemMounts {
  /** /usr, /etc and the /bin-/lib links: mounted first. */
  system: string[];
  /** Extra read-only folders and the masks over hidden paths: mounted after the sandbox's own /tmp and /dev. */
  extra: string[];
}

/**
 * The host's system folders, read-only: /usr and /etc, the /bin and /lib links (or folders on hosts
 * without a merged /usr), and any extra ones. The rest of the host (/root, /home, /work, /var, /run,
 * /tmp, the sandbox root) is simply not there. `hidden` paths that fall inside a mounted folder get
 * an empty read-only tmpfs (folders) or /dev/null (files) over them.
 */
export function systemMountArguments(extraFolders: string[], hidden: string[]): SystemMounts {
  const system: string[] = [];
  const extra: string[] = [];
  const mounted: string[] = [];
  for (const folder of ['/usr', '/etc']) {
    if (!fs.existsSync(folder)) continue;
    system.push('--ro-bind', folder, folder);
    mounted.push(folder);
  }
  for (const link of MERGED_USR_LINKS) {
    const stat = fs.lstatSync(link, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) system.push('--symlink', fs.readlinkSync(link), link);
    else if (stat?.isDirectory()) {
      system.push('--ro-bind', link, link);
      mounted.push(link);
    }
  }
  for (const folder of extraFolders.map((entry) => path.resolve(entry))) {
    if (!fs.existsSync(folder)) throw new Error(`read-only path ${folder} does not exist`);
    assertTraversableByOthers(path.dirname(folder), `read-only path ${folder}`);
    extra.push('--ro-bind', folder, folder);
    mounted.push(folder);
  }
  for (const entry of hidden.map((item) => path.resolve(item))) {
    if (!mounted.some((folder) => entry === folder || entry.startsWith(`${folder}/`))) continue;
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (stat?.isDirectory()) extra.push('--perms', '0555', '--size', '4096', '--tmpfs', entry, '--remount-ro', entry);
    else if (stat) extra.push('--ro-bind', '/dev/null', entry);
  }
  return { system, extra };
}

/** Mount points for workspaces must be absolute, normalised, and clear of the sandbox's own folders. */
export function assertInsidePath(mountPoint: string): void {
  const reserved = ['/usr', '/etc', '/proc', '/dev', '/tmp', '/run', '/var/tmp', SANDBOX_HOME, ...MERGED_USR_LINKS];
  const clashes = reserved.some((folder) => mountPoint === folder || mountPoint.startsWith(`${folder}/`) || folder.startsWith(`${mountPoint}/`));
  if (!path.posix.isAbsolute(mountPoint) || path.posix.normalize(mountPoint) !== mountPoint || mountPoint === '/' || clashes) {
    throw new Error(`refusing workspace mount point ${JSON.stringify(mountPoint)} inside the sandbox`);
  }
}

/**
 * bwrap runs as the sandbox uid, so every folder on the way to what it binds must let others
 * through; failing here names the folder and the fix, where bwrap would only say "Permission denied".
 */
export function assertTraversableByOthers(target: string, what: string): void {
  const blocked = untraversableFolder(target);
  if (blocked === null) return;
  throw stewardFailure(
    ERROR_TYPES.sandboxUnavailable,
    `${what} is out of the sandbox uid's reach: ${blocked.folder} has mode ${blocked.mode.toString(8)} ` +
      `(others need x: chmod o+x ${blocked.folder}, or choose a folder whose parents all let others through)`,
  );
}
