import * as fs from 'node:fs';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { resolveCommit, runGit } from '../../lib/git';
import { hashLockfiles, nonce, normalizeLocation, repositoryIdOf, snapshotKey } from './keys';
import type { SnapshotSpec } from './snapshot-store.port';
import type { StoreLayout } from './store-layout';

/**
 * A bare mirror per repository location, from which snapshots are checked out: the repository is
 * cloned once and fetched after, and lockfiles are read from it without a checkout.
 */

export interface ResolvedSpec {
  location: string;
  mirror: string;
  commit: string;
  lockfileHash: string;
  key: string;
}

/**
 * `names`: a branch, tag or HEAD names whatever the repository holds now, so the mirror is fetched
 * before it answers for one (only a full sha the mirror has already needs no fetch: no fetch can
 * change what it names). `always`: fetch in any case.
 */
export type FetchPolicy = 'names' | 'always';

/** Either length of object name git uses (SHA-1, SHA-256). */
const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** HEAD and revisions relative to it (HEAD~1, HEAD^2): the remote's HEAD, which no mirror refspec carries. */
const REMOTE_HEAD = /^HEAD(?=$|[~^])/;

/** Finds the commit the spec's revision names in the repository (fetching into the mirror as the policy says), hashes its lockfiles, and derives the key. */
export async function resolveSpec(layout: StoreLayout, spec: SnapshotSpec, fetch: FetchPolicy, log: (line: string) => void, signal?: AbortSignal): Promise<ResolvedSpec> {
  await layout.ensure();
  const location = normalizeLocation(spec.repositoryLocation);
  const repositoryId = repositoryIdOf(location);
  const mirror = layout.mirrorPath(repositoryId);
  const notFound = () =>
    stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${spec.revision} not found in ${spec.repositoryLocation}`, {
      repositoryLocation: spec.repositoryLocation,
      revision: spec.revision,
    });
  // Anything starting with '-' would reach git as an option.
  if (spec.revision === '' || spec.revision.startsWith('-')) throw notFound();

  const commit = await layout.exclusive(
    `mirror-${repositoryId}`,
    async () => {
      if (!fs.existsSync(path.join(mirror, 'HEAD'))) {
        await cloneMirror(layout, location, repositoryId, mirror, log);
      } else if (fetch === 'always' || !FULL_SHA.test(spec.revision) || (await resolveCommit(mirror, spec.revision)) === null) {
        await fetchMirror(location, mirror);
      }
      return resolveInMirror(location, mirror, spec.revision);
    },
    signal,
  );
  if (commit === null) throw notFound();
  const lockfileHash = await hashLockfiles(mirror, commit);
  return { location, mirror, commit, lockfileHash, key: snapshotKey(location, commit, lockfileHash, spec.setupCommand) };
}

/**
 * The commit in a freshly fetched mirror. A mirror's own HEAD is the branch the remote's HEAD was
 * at clone time, so HEAD is asked of the remote itself: fetched into FETCH_HEAD (the mirror lock
 * is held, nobody else writes it) and resolved there.
 */
async function resolveInMirror(location: string, mirror: string, revision: string): Promise<string | null> {
  if (!REMOTE_HEAD.test(revision)) return resolveCommit(mirror, revision);
  const outcome = await runGit(mirror, ['fetch', '--quiet', 'origin', 'HEAD']);
  if (outcome.code !== 0) {
    throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not fetch HEAD of ${location}: ${outcome.stderr.trim()}`, { repositoryLocation: location });
  }
  return resolveCommit(mirror, revision.replace(REMOTE_HEAD, 'FETCH_HEAD'));
}

async function cloneMirror(layout: StoreLayout, location: string, repositoryId: string, mirror: string, log: (line: string) => void): Promise<void> {
  log(`snapshot mirror: cloning ${location}`);
  const temporary = layout.buildFolder(`mirror-${repositoryId}-${nonce()}`);
  try {
    const outcome = await runGit(layout.root, ['clone', '--mirror', '--quiet', '--', location, temporary]);
    if (outcome.code !== 0) {
      throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not clone ${location}: ${outcome.stderr.trim()}`, { repositoryLocation: location });
    }
    await fs.promises.rename(temporary, mirror);
  } finally {
    await fs.promises.rm(temporary, { recursive: true, force: true });
  }
}

async function fetchMirror(location: string, mirror: string): Promise<void> {
  const outcome = await runGit(mirror, ['fetch', '--prune', '--quiet', 'origin']);
  if (outcome.code !== 0) {
    throw stewardFailure(ERROR_TYPES.sandboxUnavailable, `could not fetch ${location}: ${outcome.stderr.trim()}`, { repositoryLocation: location });
  }
}
