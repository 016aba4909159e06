import { parseUnifiedDiff, type FilePatch } from '../unified-diff';
import { fileTag, STEWARD_CREATED_TAG, tagValue } from './proposal';

/**
 * When a merged change deletes the code a generated monitor watches, the monitor can never fire
 * again and only pretends to cover something: it is retired. The code is gone when the monitor's
 * file (its `steward_file` tag) is deleted, or when every literal it matches is removed from that
 * file; in either case only if no literal comes back in an added line of the diff, since code that
 * moved still emits what the monitor watches. A renamed file is moved code, not deleted code. Only
 * monitors Steward created (`created_by:steward`) are ever considered.
 */

export interface GeneratedMonitorRecord {
  id: string;
  name: string;
  tags: readonly string[];
  /** The strings the monitor's query relies on, as grounded when it was created. */
  literals: readonly string[];
}

export type RetirementReason = 'file_deleted' | 'literals_removed';

export interface MonitorRetirement {
  monitorId: string;
  name: string;
  /** The path the diff gives for the monitor's file. */
  file: string;
  reason: RetirementReason;
  detail: string;
  /** False when the literals were removed but the file's content after the merge was not given: they were looked for in the diff's lines only, not in the file's unchanged ones. A deleted file has no content: true. */
  checkedAgainstContent: boolean;
}

/** The file's content after the merge, where the caller has it. */
export type ContentAfter = (path: string) => string | undefined;

export function monitorsToRetire(monitors: readonly GeneratedMonitorRecord[], diff: string, contentAfter: ContentAfter = () => undefined): MonitorRetirement[] {
  const patches = parseUnifiedDiff(diff);
  const added = patches.flatMap((patch) => linesOf(patch, 'added'));
  const readded = (literal: string) => added.some((line) => line.includes(literal));
  const retirements: MonitorRetirement[] = [];
  for (const monitor of monitors) {
    if (!monitor.tags.includes(STEWARD_CREATED_TAG)) continue;
    const file = tagValue(monitor.tags, 'steward_file');
    if (file === null) continue;
    const patch = patches.find((p) => p.oldPath !== null && fileTag(p.oldPath) === `steward_file:${file}`);
    if (!patch || patch.isCopy) continue;
    const literals = [...new Set(monitor.literals.filter((literal) => literal !== ''))];
    const oldPath = patch.oldPath!;

    if (patch.newPath === null) {
      const moved = literals.filter(readded);
      if (moved.length > 0) continue;
      retirements.push({ monitorId: monitor.id, name: monitor.name, file: oldPath, reason: 'file_deleted', detail: `the change deletes ${oldPath}`, checkedAgainstContent: true });
      continue;
    }
    if (patch.newPath !== oldPath || literals.length === 0) continue;

    const removed = linesOf(patch, 'removed');
    if (!literals.every((literal) => removed.some((line) => line.includes(literal)))) continue;
    const content = contentAfter(patch.newPath);
    const remaining = literals.filter((literal) => (content === undefined ? readded(literal) : content.includes(literal) || readded(literal)));
    if (remaining.length > 0) continue;
    retirements.push({
      monitorId: monitor.id,
      name: monitor.name,
      file: oldPath,
      reason: 'literals_removed',
      detail: `the change removes ${literals.map((l) => JSON.stringify(l)).join(', ')} from ${oldPath}${content === undefined ? '' : ', and the file no longer holds ' + (literals.length === 1 ? 'it' : 'any of them')}`,
      checkedAgainstContent: content !== undefined,
    });
  }
  return retirements;
}

function linesOf(patch: FilePatch, kind: 'added' | 'removed'): string[] {
  return patch.hunks.flatMap((hunk) => hunk.lines.filter((line) => line.kind === kind).map((line) => line.text));
}
