import { classifyPath, type FileClass } from '../deploy-triage/changed-files';
import { parseUnifiedDiff, UnifiedDiffError } from '../unified-diff';

/**
 * A merged change as monitor generation reads it: each file's class and new lines, and the view of
 * the diff the agent is given. Binary files are skipped (nothing in them is a log line to match).
 * A diff larger than the agent's budget is summarized, not sent whole: runtime source first, whole
 * file patches while they fit, and every file left out listed with its counts, so that the agent
 * knows it is there and can read it itself.
 */

export interface MergedFile {
  path: string;
  /** The path before a rename; null otherwise. */
  oldPath: string | null;
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'binary';
  fileClass: FileClass | null;
  /** Runtime source code (not a manifest, lockfile or image definition): what a monitor can watch. */
  runtimeSource: boolean;
  /** New-side line numbers of the added lines. */
  addedLines: number[];
  removedCount: number;
}

export interface MergedDiffView {
  files: MergedFile[];
  /** The diff the agent reads, within its budget. */
  agentDiff: string;
  /** Files whose patch did not fit, listed in agentDiff's note instead. */
  summarizedFiles: string[];
  skippedBinary: string[];
  /** `file:line` of every added runtime source line: what the caps' coverage counts. */
  newRuntimeLines: string[];
  /** e.g. "runtime 2, test 1, docs 1" */
  filesByClass: string;
  note: string | null;
}

interface Chunk {
  text: string;
  header: string;
}

/** `diff --git a/x b/y` starts each file; what precedes the first is not a file. */
function chunksOf(diff: string): Chunk[] {
  const starts: number[] = [];
  const pattern = /^diff --git /gm;
  for (let match = pattern.exec(diff); match; match = pattern.exec(diff)) starts.push(match.index);
  return starts.map((start, i) => {
    const text = diff.slice(start, starts[i + 1] ?? diff.length);
    return { text, header: text.slice(0, text.indexOf('\n') >= 0 ? text.indexOf('\n') : text.length) };
  });
}

function binaryPathOf(header: string): string {
  const match = /^diff --git a\/(.+) b\/(.+)$/.exec(header);
  return match ? match[2]! : header.replace(/^diff --git /, '');
}

const isBinary = (chunk: string) => /^(Binary files .* differ|GIT binary patch)$/m.test(chunk);

export function readMergedDiff(diff: string, maxAgentChars: number): MergedDiffView {
  if (!Number.isInteger(maxAgentChars) || maxAgentChars < 1_000) throw new RangeError(`maxAgentChars must be a whole number of at least 1,000, not ${maxAgentChars}`);
  const files: (MergedFile & { text: string })[] = [];
  const skippedBinary: string[] = [];
  for (const chunk of chunksOf(diff)) {
    if (isBinary(chunk.text)) {
      const path = binaryPathOf(chunk.header);
      skippedBinary.push(path);
      files.push({ path, oldPath: null, status: 'binary', fileClass: classifyPath(path).fileClass, runtimeSource: false, addedLines: [], removedCount: 0, text: '' });
      continue;
    }
    let patch;
    try {
      [patch] = parseUnifiedDiff(chunk.text);
    } catch (error) {
      // A mode change or an empty file has no hunks: nothing added, nothing to watch.
      if (error instanceof UnifiedDiffError) continue;
      throw error;
    }
    if (!patch) continue;
    const path = patch.newPath ?? patch.oldPath!;
    const placed = classifyPath(path);
    const addedLines: number[] = [];
    let removedCount = 0;
    for (const hunk of patch.hunks) {
      let newLine = hunk.newStart;
      for (const line of hunk.lines) {
        if (line.kind === 'added') addedLines.push(newLine);
        if (line.kind === 'removed') removedCount += 1;
        if (line.kind !== 'removed') newLine += 1;
      }
    }
    const status = patch.newPath === null ? 'deleted' : patch.oldPath === null ? 'added' : patch.oldPath !== patch.newPath && !patch.isCopy ? 'renamed' : 'modified';
    files.push({
      path,
      oldPath: status === 'renamed' ? patch.oldPath : null,
      status,
      fileClass: placed.fileClass,
      runtimeSource: placed.fileClass === 'runtime' && / source$|^SQL/.test(placed.rule),
      addedLines,
      removedCount,
      text: chunk.text,
    });
  }

  // Runtime source first, then everything else in diff order: what the agent must see comes first.
  const ordered = [...files.filter((f) => f.runtimeSource), ...files.filter((f) => !f.runtimeSource && f.status !== 'binary')];
  const shown: string[] = [];
  const summarizedFiles: string[] = [];
  let used = 0;
  for (const file of ordered) {
    if (used + file.text.length <= maxAgentChars) {
      shown.push(file.text);
      used += file.text.length;
    } else summarizedFiles.push(file.path);
  }
  const summaryLines = files
    .filter((f) => summarizedFiles.includes(f.path))
    .map((f) => `- ${f.path} (${f.fileClass ?? 'unplaced'}, ${f.status}): +${f.addedLines.length} −${f.removedCount} lines, not shown; read_file to see it`);
  const notes = [
    summarizedFiles.length > 0 ? `the diff is larger than ${maxAgentChars} characters: ${summarizedFiles.length} file(s) are summarized below instead of shown` : null,
    skippedBinary.length > 0 ? `binary files skipped: ${skippedBinary.join(', ')}` : null,
  ].filter((n): n is string => n !== null);
  const counts = new Map<string, number>();
  for (const file of files) counts.set(file.fileClass ?? 'unplaced', (counts.get(file.fileClass ?? 'unplaced') ?? 0) + 1);
  return {
    files: files.map(({ text: _text, ...file }) => file),
    agentDiff: [...shown, ...(summaryLines.length > 0 ? [`Files not shown:\n${summaryLines.join('\n')}\n`] : [])].join(''),
    summarizedFiles,
    skippedBinary,
    newRuntimeLines: files.filter((f) => f.runtimeSource).flatMap((f) => f.addedLines.map((line) => `${f.path}:${line}`)),
    filesByClass: [...counts.entries()].map(([name, n]) => `${name} ${n}`).join(', '),
    note: notes.length > 0 ? notes.join('; ') : null,
  };
}
