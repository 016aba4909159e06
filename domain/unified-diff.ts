/**
 * Reads the unified diff that `git diff --binary` prints and applies it to file contents, for code
 * hosts that take whole files rather than patches (GitHub's git data API). Text files only: a binary
 * patch is refused. Hunks must apply exactly where their header says, context included: the diff was
 * made against the very revision it is applied to, so any drift means the wrong base.
 */

/** One file's change. A rename or copy names two paths; a created file has no old path, a deleted one no new path. */
export interface FilePatch {
  oldPath: string | null;
  newPath: string | null;
  /** True for `copy from`/`copy to`: unlike a rename, the old path stays. */
  isCopy: boolean;
  /** Git file modes ('100644', '100755', '120000'), where the diff states them. */
  oldMode: string | null;
  newMode: string | null;
  /** Abbreviated blob ids from the `index` line, where there is one. All zeros stand for "no file". */
  oldBlob: string | null;
  newBlob: string | null;
  hunks: Hunk[];
}

export interface Hunk {
  /** The `@@ -a,b +c,d @@` range, for error messages. */
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: HunkLine[];
}

export interface HunkLine {
  kind: 'context' | 'removed' | 'added';
  /** The line with its terminator: '\n', or nothing when the diff marks "No newline at end of file". */
  text: string;
}

/** The diff cannot be read, or does not apply to the content it was given. */
export class UnifiedDiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnifiedDiffError';
  }
}

// Git follows the range with the enclosing function's line, which is no part of the hunk.
const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;
const INDEX_LINE = /^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?$/;
const NO_NEWLINE_MARKER = '\\';

/** Every file patch in the diff, in order. A diff without any is refused: there would be nothing to commit. */
export function parseUnifiedDiff(diff: string): FilePatch[] {
  const lines = diff.split('\n');
  // The diff's own last newline leaves an empty string behind, which is no line of the diff.
  if (lines[lines.length - 1] === '') lines.pop();
  const patches: FilePatch[] = [];
  let index = 0;
  while (index < lines.length) {
    if (!lines[index].startsWith('diff --git ')) {
      throw new UnifiedDiffError(`line ${index + 1} of the diff is not part of a file patch: ${JSON.stringify(lines[index])}`);
    }
    const parsed = parseFilePatch(lines, index);
    patches.push(parsed.patch);
    index = parsed.next;
  }
  if (patches.length === 0) throw new UnifiedDiffError('the diff holds no file patch');
  return patches;
}

function parseFilePatch(lines: string[], start: number): { patch: FilePatch; next: number } {
  const headerLine = lines[start];
  const patch: FilePatch = { oldPath: null, newPath: null, isCopy: false, oldMode: null, newMode: null, oldBlob: null, newBlob: null, hunks: [] };
  let created = false;
  let deleted = false;
  let renameOrCopy: { from: string | null; to: string | null } = { from: null, to: null };
  let markerPaths: { old: string | null; new: string | null } | null = null;
  let index = start + 1;

  for (; index < lines.length && !lines[index].startsWith('diff --git ') && !lines[index].startsWith('@@ '); index++) {
    const line = lines[index];
    const value = (prefix: string): string => line.slice(prefix.length);
    if (line.startsWith('old mode ')) patch.oldMode = value('old mode ');
    else if (line.startsWith('new mode ')) patch.newMode = value('new mode ');
    else if (line.startsWith('new file mode ')) {
      created = true;
      patch.newMode = value('new file mode ');
    } else if (line.startsWith('deleted file mode ')) {
      deleted = true;
      patch.oldMode = value('deleted file mode ');
    } else if (line.startsWith('rename from ')) renameOrCopy = { ...renameOrCopy, from: unquotePath(value('rename from ')) };
    else if (line.startsWith('rename to ')) renameOrCopy = { ...renameOrCopy, to: unquotePath(value('rename to ')) };
    else if (line.startsWith('copy from ')) {
      patch.isCopy = true;
      renameOrCopy = { ...renameOrCopy, from: unquotePath(value('copy from ')) };
    } else if (line.startsWith('copy to ')) {
      patch.isCopy = true;
      renameOrCopy = { ...renameOrCopy, to: unquotePath(value('copy to ')) };
    } else if (line.startsWith('similarity index ') || line.startsWith('dissimilarity index ')) continue;
    else if (line.startsWith('index ')) {
      const match = INDEX_LINE.exec(line);
      if (!match) throw new UnifiedDiffError(`unreadable index line ${JSON.stringify(line)}`);
      patch.oldBlob = match[1];
      patch.newBlob = match[2];
      // A mode on the index line is the file's unchanged mode.
      if (match[3]) patch.oldMode = patch.newMode = match[3];
    } else if (line.startsWith('--- ')) {
      const next = lines[index + 1] ?? '';
      if (!next.startsWith('+++ ')) throw new UnifiedDiffError(`"${line}" is not followed by a +++ line`);
      markerPaths = { old: markerPath(value('--- ')), new: markerPath(next.slice('+++ '.length)) };
      index++;
    } else if (line.startsWith('GIT binary patch') || line.startsWith('Binary files ')) {
      throw new UnifiedDiffError(`${describeHeader(headerLine)} is a binary change; only text files can be applied`);
    } else {
      throw new UnifiedDiffError(`unexpected line in the header of ${describeHeader(headerLine)}: ${JSON.stringify(line)}`);
    }
  }

  // The ---/+++ lines name the paths exactly; rename and copy lines come next; the `diff --git` line,
  // ambiguous when paths hold spaces, is the last resort and only used when both paths are the same.
  if (markerPaths) {
    patch.oldPath = markerPaths.old;
    patch.newPath = markerPaths.new;
  } else if (renameOrCopy.from !== null || renameOrCopy.to !== null) {
    if (renameOrCopy.from === null || renameOrCopy.to === null) throw new UnifiedDiffError(`${describeHeader(headerLine)} names only one side of a rename or copy`);
    patch.oldPath = renameOrCopy.from;
    patch.newPath = renameOrCopy.to;
  } else {
    const path = samePathFromHeader(headerLine);
    patch.oldPath = created ? null : path;
    patch.newPath = deleted ? null : path;
  }
  if (created && patch.oldPath !== null) throw new UnifiedDiffError(`${describeHeader(headerLine)} creates a file but names an old path`);
  if (deleted && patch.newPath !== null) throw new UnifiedDiffError(`${describeHeader(headerLine)} deletes a file but names a new path`);
  if (patch.oldPath === null && patch.newPath === null) throw new UnifiedDiffError(`${describeHeader(headerLine)} names no file`);

  while (index < lines.length && lines[index].startsWith('@@ ')) {
    const parsed = parseHunk(lines, index, patch.newPath ?? patch.oldPath ?? '');
    patch.hunks.push(parsed.hunk);
    index = parsed.next;
  }
  return { patch, next: index };
}

function parseHunk(lines: string[], start: number, path: string): { hunk: Hunk; next: number } {
  const match = HUNK_HEADER.exec(lines[start]);
  if (!match) throw new UnifiedDiffError(`${path}: unreadable hunk header ${JSON.stringify(lines[start])}`);
  const header = match[0];
  // An omitted count means one line.
  const hunk: Hunk = {
    header,
    oldStart: Number(match[1]),
    oldLines: match[2] === undefined ? 1 : Number(match[2]),
    newStart: Number(match[3]),
    newLines: match[4] === undefined ? 1 : Number(match[4]),
    lines: [],
  };
  let oldRemaining = hunk.oldLines;
  let newRemaining = hunk.newLines;
  let index = start + 1;
  // The header's counts, not the look of the lines, decide where the hunk ends.
  while (oldRemaining > 0 || newRemaining > 0) {
    if (index >= lines.length) throw new UnifiedDiffError(`${path}: hunk ${header} ends before its ${hunk.oldLines} old and ${hunk.newLines} new lines`);
    const line = lines[index];
    // Some editors strip the lone space of an empty context line.
    const marker = line === '' ? ' ' : line[0];
    const text = `${line.slice(1)}\n`;
    if (marker === ' ') {
      hunk.lines.push({ kind: 'context', text });
      oldRemaining--;
      newRemaining--;
    } else if (marker === '-') {
      hunk.lines.push({ kind: 'removed', text });
      oldRemaining--;
    } else if (marker === '+') {
      hunk.lines.push({ kind: 'added', text });
      newRemaining--;
    } else {
      throw new UnifiedDiffError(`${path}: hunk ${header} has an unexpected line ${JSON.stringify(line)}`);
    }
    if (oldRemaining < 0 || newRemaining < 0) throw new UnifiedDiffError(`${path}: hunk ${header} holds more lines than its header counts`);
    index++;
    if (lines[index]?.startsWith(NO_NEWLINE_MARKER)) {
      const last = hunk.lines[hunk.lines.length - 1];
      last.text = last.text.slice(0, -1);
      index++;
    }
  }
  return { hunk, next: index };
}

/**
 * The file's content after the patch. `original` is the content at the old path, '' for a created file.
 * A deleted file must be emptied by its hunks, so that deleting an edited file is refused too.
 */
export function applyFilePatch(patch: FilePatch, original: string): string {
  const path = patch.newPath ?? patch.oldPath ?? '';
  if (patch.oldPath === null && original !== '') throw new UnifiedDiffError(`${path}: the diff creates this file, but it already has content`);
  const originalLines = splitLines(original);
  const result: string[] = [];
  let cursor = 0;
  for (const hunk of patch.hunks) {
    // A hunk that removes nothing names the line after which it inserts; any other names its first line.
    const start = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
    if (start < cursor) throw new UnifiedDiffError(`${path}: hunk ${hunk.header} overlaps the hunk before it`);
    if (start + hunk.oldLines > originalLines.length) {
      throw new UnifiedDiffError(`${path}: hunk ${hunk.header} reaches line ${start + hunk.oldLines}, but the file has ${originalLines.length} lines`);
    }
    result.push(...originalLines.slice(cursor, start));
    let position = start;
    for (const line of hunk.lines) {
      if (line.kind === 'added') {
        result.push(line.text);
        continue;
      }
      const actual = originalLines[position];
      if (actual !== line.text) {
        throw new UnifiedDiffError(
          `${path}: hunk ${hunk.header} expects line ${position + 1} to be ${JSON.stringify(line.text)}, but it is ${JSON.stringify(actual)}`,
        );
      }
      if (line.kind === 'context') result.push(line.text);
      position++;
    }
    cursor = position;
  }
  result.push(...originalLines.slice(cursor));
  const content = result.join('');
  if (patch.newPath === null && content !== '') throw new UnifiedDiffError(`${path}: the diff deletes this file, but its hunks leave content behind`);
  return content;
}

/** Lines with their terminators, so that a last line without a newline stays without one. */
function splitLines(content: string): string[] {
  return content.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A path on a ---/+++ line: /dev/null for no file, else the path after its one-component prefix (a/, b/). */
function markerPath(raw: string): string | null {
  // Git ends the path with a tab when it holds a space, so that trailing whitespace stays readable.
  const path = unquotePath(raw.endsWith('\t') ? raw.slice(0, -1) : raw);
  if (path === '/dev/null') return null;
  return withoutPrefix(path);
}

/** The path of `diff --git a/P b/P`. Unquoted paths may hold spaces, so the line is split in the middle. */
function samePathFromHeader(headerLine: string): string {
  const rest = headerLine.slice('diff --git '.length);
  let first: string;
  let second: string;
  if (rest.startsWith('"')) {
    const end = closingQuote(rest, 0);
    first = unquotePath(rest.slice(0, end + 1));
    second = unquotePath(rest.slice(end + 2));
  } else {
    const middle = (rest.length - 1) / 2;
    first = rest.slice(0, middle);
    second = rest.slice(middle + 1);
  }
  const path = withoutPrefix(first);
  if (path !== withoutPrefix(second)) throw new UnifiedDiffError(`cannot tell the two paths of ${JSON.stringify(headerLine)} apart`);
  return path;
}

function withoutPrefix(path: string): string {
  const slash = path.indexOf('/');
  if (slash < 0) throw new UnifiedDiffError(`path ${JSON.stringify(path)} has no a/ or b/ prefix`);
  return path.slice(slash + 1);
}

function closingQuote(text: string, open: number): number {
  for (let index = open + 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === '"') return index;
  }
  throw new UnifiedDiffError(`unterminated quoted path in ${JSON.stringify(text)}`);
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };

/**
 * Git quotes a path holding control characters, quotes or (with core.quotePath, the default) non-ASCII
 * characters, C style, escaping the UTF-8 bytes in octal.
 */
function unquotePath(raw: string): string {
  if (!raw.startsWith('"')) return raw;
  if (closingQuote(raw, 0) !== raw.length - 1) throw new UnifiedDiffError(`unreadable quoted path ${JSON.stringify(raw)}`);
  const bytes: number[] = [];
  for (let index = 1; index < raw.length - 1; index++) {
    if (raw[index] !== '\\') {
      const codePoint = raw.codePointAt(index) ?? 0;
      bytes.push(...new TextEncoder().encode(String.fromCodePoint(codePoint)));
      if (codePoint > 0xffff) index++;
      continue;
    }
    const escaped = raw[index + 1];
    const octal = /^[0-7]{3}/.exec(raw.slice(index + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      index += 3;
    } else if (escaped in C_ESCAPES) {
      bytes.push(C_ESCAPES[escaped]);
      index += 1;
    } else {
      throw new UnifiedDiffError(`unknown escape \\${escaped} in path ${raw}`);
    }
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
}

function describeHeader(headerLine: string): string {
  return JSON.stringify(headerLine.slice('diff --git '.length));
}
