import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { git, runGit } from '../../lib/git';

/**
 * What names a snapshot: a key over repository, commit, lockfile hash and setup command, so that
 * two revisions resolving to the same commit with the same lockfiles share one snapshot, and a
 * lockfile change (new dependencies) never serves an old install.
 */

/** Lockfiles at the repository root that pin installed dependencies. */
export const LOCKFILES = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lock',
  'bun.lockb',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'go.sum',
  'Cargo.lock',
  'Gemfile.lock',
  'composer.lock',
  'mix.lock',
  'pubspec.lock',
  'Podfile.lock',
  'packages.lock.json',
  'gradle.lockfile',
] as const;

/** Part of every key: bump it when what a snapshot holds changes, so that old snapshots stop matching. */
const KEY_FORMAT = 'steward-snapshot-v1';
export const KEY_PATTERN = /^[0-9a-f]{64}$/;

export function snapshotKey(location: string, commit: string, lockfileHash: string, setupCommand: string | null): string {
  return sha256(JSON.stringify([KEY_FORMAT, location, commit, lockfileHash, setupCommand]));
}

export function checkedKey(key: string): string {
  if (!KEY_PATTERN.test(key)) throw new Error(`not a snapshot key: ${JSON.stringify(key)}`);
  return key;
}

/** sha256 over the name and content of each lockfile at the commit's root, read from the mirror without a checkout. */
export async function hashLockfiles(mirror: string, commit: string): Promise<string> {
  const listing = await git(mirror, ['ls-tree', '-z', commit, '--', ...LOCKFILES]);
  const entries = listing
    .split('\0')
    .filter(Boolean)
    .map((line) => {
      const [meta, name] = line.split('\t') as [string, string];
      const [, type, objectId] = meta.split(' ') as [string, string, string];
      return { name, type, objectId };
    })
    .filter((e) => e.type === 'blob')
    .sort((a, b) => a.name.localeCompare(b.name));
  if (entries.length === 0) return 'none';
  const hash = createHash('sha256');
  for (const entry of entries) {
    const content = await runGit(mirror, ['cat-file', 'blob', entry.objectId]);
    if (content.code !== 0) throw new Error(`git cat-file ${entry.objectId} failed in ${mirror}: ${content.stderr.trim()}`);
    hash.update(`${entry.name}\0${content.stdoutBytes.length}\0`);
    hash.update(content.stdoutBytes);
  }
  return hash.digest('hex');
}

/** A local path the same however it was written; URLs as given. */
export function normalizeLocation(location: string): string {
  return fs.existsSync(location) ? path.resolve(location) : location;
}

export function repositoryIdOf(location: string): string {
  return sha256(location).slice(0, 32);
}

export function viewIdFor(directory: string): string {
  return sha256(path.resolve(directory)).slice(0, 32);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function nonce(): string {
  return randomBytes(6).toString('hex');
}
