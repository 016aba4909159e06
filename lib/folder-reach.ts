import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** A system user, as the kernel checks it against a folder's mode bits. */
export interface SystemUser {
  name: string;
  uid: number;
  gids: number[];
}

/** The uid and groups of a system user, from `id`; null when there is no such user. */
export function lookUpSystemUser(name: string): SystemUser | null {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gids = execFileSync('id', ['-G', name], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { name, uid, gids };
  } catch {
    return null;
  }
}

/** Whether `user` may traverse (search) `dir`, by its owner, group and other execute bits. */
function canTraverse(dir: string, user: SystemUser): boolean {
  const stat = fs.statSync(dir);
  if (user.uid === 0) return true;
  if (stat.uid === user.uid) return (stat.mode & 0o100) !== 0;
  if (user.gids.includes(stat.gid)) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

/**
 * The first existing folder on the way from `/` to `target` that `user` cannot pass through, with
 * its mode; null when every existing one lets the user through. A clone under a home folder of
 * mode 0700 (or any `mktemp -d` folder) is the usual case: its parents keep other users out.
 */
export function firstBlockingFolder(target: string, user: SystemUser): { folder: string; mode: string } | null {
  const absolute = path.resolve(target);
  const folders: string[] = [];
  for (let dir = path.dirname(absolute); ; dir = path.dirname(dir)) {
    folders.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const folder of folders) {
    if (!fs.existsSync(folder)) break;
    if (!canTraverse(folder, user)) return { folder, mode: (fs.statSync(folder).mode & 0o777).toString(8).padStart(3, '0') };
  }
  return null;
}
