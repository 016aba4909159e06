/**
 * Checks a model's claim against the code, before Steward repeats it. A causal link names one line
 * of a deploy's diff and the flagged error it explains; it stands only when the line is a changed
 * line of that diff, the file or function is on the error's code path, and every symbol it names
 * exists at the revision. Code references of the alert triage are checked the same way.
 * Everything here is pure: the caller looks the code up and passes what it found.
 */
import type { FilePatch } from '../unified-diff';
import { normalizeRepoPath } from './changed-files';
import { functionNames, parseStackFrames, type StackFrame } from './stack-frames';

export interface CausalLink {
  file: string;
  /** Line number in the new file (side 'new', an added line) or in the old one (side 'old', a removed line). */
  line: number;
  side: 'new' | 'old';
  /** The line's text as the model read it; when given it must match the diff. */
  lineText: string | null;
  /** The flagged error's signature id this line explains. */
  signature: string;
  /** The function the line sits in, as the model names it. */
  function: string | null;
  /** Identifiers the explanation depends on; each must exist at the revision. */
  symbols: string[];
}

export interface FlaggedErrorEvidence {
  signature: string;
  template: string;
  message: string;
  stackTrace: string | null;
}

export type GroundingCheck = 'signature' | 'line_in_diff' | 'line_text' | 'runtime_file' | 'on_code_path' | 'symbols_exist';
export interface GroundingFailure {
  check: GroundingCheck;
  detail: string;
}
export type GroundingResult = { ok: true } | { ok: false; failures: GroundingFailure[] };

export interface ChangedLine {
  text: string;
  /** Where the line is, or was, in the new file: for a removed line, the line that now stands in its place. */
  newPosition: number;
}

/** The added (side 'new') or removed (side 'old') line of the file's patch at that line number, or null when the diff changes no such line. */
export function changedLineAt(patches: FilePatch[], file: string, line: number, side: 'new' | 'old'): ChangedLine | null {
  const wanted = normalizeRepoPath(file);
  const patch = patches.find((p) => (side === 'new' ? p.newPath : p.oldPath) !== null && normalizeRepoPath((side === 'new' ? p.newPath : p.oldPath)!) === wanted);
  if (!patch) return null;
  for (const hunk of patch.hunks) {
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    for (const hunkLine of hunk.lines) {
      if (hunkLine.kind === 'added') {
        if (side === 'new' && newLine === line) return { text: hunkLine.text.replace(/\n$/, ''), newPosition: newLine };
        newLine++;
      } else if (hunkLine.kind === 'removed') {
        if (side === 'old' && oldLine === line) return { text: hunkLine.text.replace(/\n$/, ''), newPosition: Math.max(newLine, 1) };
        oldLine++;
      } else {
        oldLine++;
        newLine++;
      }
    }
  }
  return null;
}

/** Identifier parts of the names the model gave: `order.coupon` and `discountCents()` are checked as order, coupon and discountCents. */
export function symbolParts(symbols: string[]): string[] {
  const parts = symbols.flatMap((symbol) => symbol.replace(/\(\s*\)$/, '').split(/\.|::|#|->/)).map((part) => part.trim());
  return [...new Set(parts.filter((part) => part !== ''))];
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The symbols of a link to look up at the revision: its own symbols and the function it names. */
export function symbolsToLookUp(link: Pick<CausalLink, 'symbols' | 'function'>): string[] {
  return symbolParts([...link.symbols, ...(link.function ? [link.function] : [])]);
}

export function groundCausalLink(input: {
  link: CausalLink;
  patches: FilePatch[];
  flagged: FlaggedErrorEvidence[];
  /** Functions around the cited line in the file at the revision (enclosingFunctionNames), innermost first. */
  enclosingFunctions: string[];
  /** Whether each of symbolsToLookUp(link) occurs at the revision. A symbol missing from the record counts as absent. */
  symbolsPresent: Record<string, boolean>;
  /** The files of the diff that run in production; a line of any other (a test, a README) explains no production error. */
  runtimeFiles?: string[];
}): GroundingResult {
  const { link } = input;
  const failures: GroundingFailure[] = [];
  const error = input.flagged.find((f) => f.signature === link.signature);
  if (!error) failures.push({ check: 'signature', detail: `${link.signature} is not one of the flagged signatures (${input.flagged.map((f) => f.signature).join(', ')})` });

  const changed = changedLineAt(input.patches, link.file, link.line, link.side);
  if (!changed) {
    const kind = link.side === 'new' ? 'added' : 'removed';
    failures.push({ check: 'line_in_diff', detail: `${link.file}:${link.line} is no ${kind} line of the diff${describeChangedLines(input.patches, link.file, link.side)}` });
  } else if (link.lineText !== null && !sameLineText(link.lineText, changed.text)) {
    failures.push({ check: 'line_text', detail: `${link.file}:${link.line} reads ${JSON.stringify(changed.text.trim())}, not ${JSON.stringify(link.lineText.trim())}` });
  }

  if (changed && input.runtimeFiles && !input.runtimeFiles.map(normalizeRepoPath).includes(normalizeRepoPath(link.file))) {
    failures.push({ check: 'runtime_file', detail: `${link.file} does not run in production (runtime files of the diff: ${input.runtimeFiles.join(', ') || 'none'})` });
  }

  if (error) {
    // The functions found around the line, not the one the model names: otherwise any name in the stack would pass.
    const path = onCodePath(link.file, input.enclosingFunctions, error);
    if (!path.ok) failures.push({ check: 'on_code_path', detail: path.detail });
  }

  const wanted = symbolsToLookUp(link);
  const invalid = wanted.filter((s) => !IDENTIFIER.test(s));
  const missing = wanted.filter((s) => IDENTIFIER.test(s) && input.symbolsPresent[s] !== true);
  if (invalid.length > 0) failures.push({ check: 'symbols_exist', detail: `not identifiers: ${invalid.map((s) => JSON.stringify(s)).join(', ')}` });
  if (missing.length > 0) failures.push({ check: 'symbols_exist', detail: `not found at the revision: ${missing.join(', ')}` });

  return failures.length === 0 ? { ok: true } : { ok: false, failures };
}

/** Whitespace aside, the same line, or most of it: models often quote a line without its trailing comment. */
function sameLineText(quoted: string, actual: string): boolean {
  const a = squash(quoted);
  const b = squash(actual);
  return a === b || (a.length * 2 >= b.length && a.length > 0 && b.includes(a));
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function describeChangedLines(patches: FilePatch[], file: string, side: 'new' | 'old'): string {
  const wanted = normalizeRepoPath(file);
  const patch = patches.find((p) => [p.newPath, p.oldPath].some((path) => path !== null && normalizeRepoPath(path) === wanted));
  if (!patch) return `; the diff does not change ${file} (it changes ${patches.map((p) => p.newPath ?? p.oldPath).join(', ')})`;
  const ranges = patch.hunks.map((h) => (side === 'new' ? `${h.newStart}-${h.newStart + Math.max(h.newLines - 1, 0)}` : `${h.oldStart}-${h.oldStart + Math.max(h.oldLines - 1, 0)}`));
  return `; its hunks cover ${side} lines ${ranges.join(', ')}`;
}

/**
 * Whether the file or one of the functions is on the error's code path: a stack frame in the same file
 * (the shorter path a suffix of the longer, so `/app/src/pricing.js` is `src/pricing.js`, and a
 * compiled `.js` frame is its `.ts` source), a frame in one of the functions, or, for errors logged
 * without a stack, the file's or a function's name in the message.
 */
export function onCodePath(file: string, functions: string[], error: FlaggedErrorEvidence): { ok: true; detail: string } | { ok: false; detail: string } {
  const frames: StackFrame[] = parseStackFrames([error.stackTrace ?? '', error.message].join('\n'));
  const inFile = frames.find((frame) => frame.file !== null && samePath(frame.file, file));
  if (inFile) return { ok: true, detail: `frame ${inFile.function ?? '(anonymous)'} at ${inFile.file}:${inFile.line ?? '?'}` };
  const wanted = new Set(functions);
  const inFunction = frames.find((frame) => frame.function !== null && functionNames(frame.function).some((name) => wanted.has(name)));
  if (inFunction) return { ok: true, detail: `frame ${inFunction.function} is the function the line sits in` };
  const text = `${error.message}\n${error.template}`;
  const base = normalizeRepoPath(file).split('/').at(-1)!;
  const named = [base, ...functions].find((name) => new RegExp(`(^|[^\\w$])${escapeRegExp(name)}($|[^\\w$])`).test(text));
  if (named) return { ok: true, detail: `the error's message names ${named}` };
  const seen = frames.length === 0 ? 'the error has no stack frames and its message names neither' : `the stack runs through ${frames.slice(0, 6).map(describeFrame).join(', ')}`;
  return { ok: false, detail: `neither ${file} nor ${functions.length > 0 ? functions.join('/') : 'a function around the line'} is on the path of ${error.signature}: ${seen}` };
}

function describeFrame(frame: StackFrame): string {
  return `${frame.function ?? '(anonymous)'}${frame.file ? ` (${frame.file}${frame.line ? `:${frame.line}` : ''})` : ''}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const SCRIPT_EXTENSION = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/** Path segments of a frame's file: URLs and webpack prefixes off, `:line` off. */
function frameSegments(path: string): string[] {
  const cleaned = path
    .replace(/^file:\/\//, '')
    .replace(/^webpack:\/\/\/?/, '')
    .replace(/\\/g, '/')
    .replace(/:\d+(:\d+)?$/, '');
  return cleaned.split('/').filter((s) => s !== '' && s !== '.');
}

function samePath(framePath: string, repoPath: string): boolean {
  const a = frameSegments(framePath);
  const b = frameSegments(normalizeRepoPath(repoPath));
  if (a.length === 0 || b.length === 0) return false;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  const offset = longer.length - shorter.length;
  return shorter.every((segment, index) => {
    const other = longer[offset + index]!;
    if (index < shorter.length - 1) return segment === other;
    return segment === other || (SCRIPT_EXTENSION.test(segment) && SCRIPT_EXTENSION.test(other) && segment.replace(SCRIPT_EXTENSION, '') === other.replace(SCRIPT_EXTENSION, ''));
  });
}

const NOT_FUNCTIONS = new Set(['if', 'for', 'while', 'switch', 'catch', 'return', 'function', 'elif', 'else', 'with', 'do', 'try', 'new', 'typeof', 'await', 'sizeof', 'super', 'this']);
const DEFINITIONS: RegExp[] = [
  /^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*[<(]/,
  /^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)/,
  /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/,
  /^\s*func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)\s*[[(]/,
  /^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+([A-Za-z_]\w*)/,
  /^\s*(?:(?:public|private|protected|internal|override|open|suspend|inline)\s+)*fun\s+(?:<[^>]*>\s*)?(?:[\w.]+\.)?([A-Za-z_]\w*)\s*\(/,
  /^\s*def\s+(?:self\.)?([A-Za-z_]\w*[?!]?)/,
  /^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?(?:class|interface|struct|enum|trait|object|module|impl)\s+([A-Za-z_$][\w$]*)/,
  /^\s*([A-Za-z_$][\w$]*)\s*[:=]\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>)/,
  // A method: `name(args) {`, optionally with modifiers, a return type (`: T`, Java's `T name(…)`), or `throws`.
  /^\s*(?:(?:public|private|protected|static|final|async|override|readonly|get|set|synchronized|abstract|virtual)\s+)*(?:[\w<>[\],.?]+\s+)?\*?([A-Za-z_$][\w$]*)\s*\([^;]*\)\s*(?::\s*[^{;]+)?(?:throws\s+[\w., ]+)?\s*\{\s*$/,
];

/**
 * The functions (and classes) around a line of a file, innermost first: the line itself when it is a
 * definition, then each less indented line above it that opens a scope, when that line defines a
 * name (an anonymous callback narrows the scope but names nothing). Indentation stands in for scope,
 * which holds for the code formatters leave; closers, comments and decorators open no scope.
 */
export function enclosingFunctionNames(content: string, line: number): string[] {
  const lines = content.split('\n');
  if (line < 1 || line > lines.length) return [];
  const names: string[] = [];
  const own = definedName(lines[line - 1]!);
  if (own) names.push(own);
  let limit = indentOf(lines[line - 1]!);
  for (let index = line - 2; index >= 0 && limit > 0; index--) {
    const text = lines[index]!;
    const trimmed = text.trim();
    if (trimmed === '' || /^([)}\]]|\/\/|\/\*|\*|#|@|--)/.test(trimmed)) continue;
    const indent = indentOf(text);
    if (indent >= limit) continue;
    const name = definedName(text);
    if (name) names.push(name);
    limit = indent;
  }
  return [...new Set(names)];
}

function definedName(text: string): string | null {
  for (const pattern of DEFINITIONS) {
    const name = pattern.exec(text)?.[1];
    if (name && !NOT_FUNCTIONS.has(name)) return name;
  }
  return null;
}

function indentOf(text: string): number {
  return (/^[ \t]*/.exec(text)?.[0] ?? '').replace(/\t/g, '    ').length;
}

/** A file or function the alert triage (or any step) names as the suspected code area. */
export interface CodeReference {
  file?: string | null;
  function?: string | null;
}

export interface RefusedReference {
  reference: CodeReference;
  reason: string;
}

/** The references that do not exist at the revision, each with why: a file that is not there, a function found nowhere. */
export function checkCodeReferences(refs: CodeReference[], lookup: { files: Record<string, boolean>; symbols: Record<string, boolean> }, revision: string): RefusedReference[] {
  const refused: RefusedReference[] = [];
  for (const reference of refs) {
    const reasons: string[] = [];
    if (reference.file && lookup.files[normalizeRepoPath(reference.file)] !== true) reasons.push(`no file ${reference.file} exists at ${revision}`);
    if (reference.function) {
      const parts = symbolParts([reference.function]);
      const missing = parts.filter((part) => !IDENTIFIER.test(part) || lookup.symbols[part] !== true);
      if (parts.length === 0 || missing.length > 0) reasons.push(`no symbol ${missing.join(', ') || reference.function} exists at ${revision}`);
    }
    if (reasons.length > 0) refused.push({ reference, reason: reasons.join('; ') });
  }
  return refused;
}
