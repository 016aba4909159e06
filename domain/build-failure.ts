import type { NormalizedAlert } from './alert';
import type { DeployEvent } from './deploy';
import { errorSignature } from './error-signature';
import type { ReproductionMatch } from './reproduction-match';

/**
 * A deploy whose build failed becomes an incident like any other: its alert carries the log's
 * error lines and the diff since the previous deploy, its reproduction is the service's build
 * command failing with the same error, and its fix must make the build pass.
 */

/** Enough of the log's end to show the error in its context; the whole log stays at its URL. */
export const BUILD_LOG_TAIL_CHARS = 8_000;
/** The latest change is almost always the cause; past this the diff is cut (the repository holds the rest). */
export const BUILD_DIFF_MAX_CHARS = 20_000;
const EXCERPT_MAX_LINES = 20;
const EXCERPT_MAX_CHARS = 3_000;
/** Lines kept when the log names no error in a shape we know: its end, where a build stops. */
const FALLBACK_TAIL_LINES = 5;

// CI runners prefix lines with timestamps and colour them; neither is part of the error.
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;
const CI_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z\s/;

/**
 * Error shapes of the common compilers, bundlers and runners. `withNext` keeps the following line
 * too, where that tool prints the error's location or reason on a line of its own.
 */
const ERROR_SHAPES: { name: string; pattern: RegExp; withPrevious?: RegExp; withNext?: boolean; withFrame?: boolean }[] = [
  // tsc: `src/a.ts(3,7): error TS2322: …` and its pretty form `src/a.ts:3:7 - error TS2322: …`
  { name: 'tsc', pattern: /^\S.*?(?:\(\d+,\d+\):|:\d+:\d+ -) error TS\d+: .+/ },
  // esbuild: `✘ [ERROR] Could not resolve "./x"`, its location on a following line
  { name: 'esbuild', pattern: /^\s*(?:✘|X|>)?\s*\[ERROR\] .+/, withNext: true },
  // webpack: `ERROR in ./src/index.js 3:0-30`, then `Module not found: Error: Can't resolve …`
  { name: 'webpack', pattern: /^ERROR in .+/, withNext: true },
  // go build / vet: `./main.go:12:2: undefined: foo`
  { name: 'go', pattern: /^\S+\.go:\d+(?::\d+)?: .+/ },
  // Node and Python: `SyntaxError: …`, `Error: Cannot find module './x'`, `ModuleNotFoundError: …`,
  // with the `file:line` (Node) or `File "…", line N` (Python) that names where.
  {
    name: 'exception',
    pattern: /^\s*(?:Uncaught )?(?:[A-Z][A-Za-z]*)?(?:Error|Exception)(?: \[[A-Z_]+\])?: .+/,
    withPrevious: /^(?:\s*File ".+", line \d+.*|\S+\.[cm]?[jt]sx?:\d+)$/,
    withFrame: true,
  },
  // gcc, clang, rustc, javac and friends: `src/x.c:3:5: error: …`, `error[E0425]: …`
  { name: 'compiler', pattern: /^(?:\S+:\d+(?::\d+)?: )?(?:fatal )?error(?:\[\w+\])?: .+/i },
];
/** npm's own lines say that a script failed, seldom why: used only when nothing better is found. */
const NPM_ERROR = /^npm (?:ERR!|error) (?!code |errno |A complete log|Log files were not|\s*$)(.+)/;

function cleanLines(log: string): string[] {
  return log.split(/\r?\n/).map((line) => line.replace(ANSI, '').replace(CI_TIMESTAMP, '').trimEnd());
}

/**
 * The lines of a build log that carry its error, in order and without repeats: the shapes above,
 * else npm's error lines, else the log's last lines. `recognized` says whether an error shape matched.
 */
export function extractBuildErrors(log: string): { lines: string[]; recognized: boolean } {
  const lines = cleanLines(log);
  const kept = new Set<number>();
  for (const [index, line] of lines.entries()) {
    const shape = ERROR_SHAPES.find((s) => s.pattern.test(line));
    if (!shape) continue;
    kept.add(index);
    if (shape.withNext && lines[index + 1]?.trim()) kept.add(index + 1);
    if (shape.withNext && !lines[index + 1]?.trim() && lines[index + 2]?.trim()) kept.add(index + 2);
    if (shape.withPrevious) {
      // Node prints the location, the source line and a caret before the error; Python its `File` line.
      const location = [index - 1, index - 2, index - 3, index - 4].find((i) => i >= 0 && shape.withPrevious!.test(lines[i]!));
      if (location !== undefined) kept.add(location);
    }
    if (shape.withFrame) {
      // The first frame in the project's own code (not node:internal, not node_modules) says where it broke.
      const frame = lines.slice(index + 1, index + 15).findIndex((l) => /^\s*at .*\(?[^()\s]+:\d+:\d+\)?$/.test(l) && !/node:|node_modules/.test(l));
      if (frame >= 0) kept.add(index + 1 + frame);
    }
  }
  let picked = [...kept].sort((a, b) => a - b).map((i) => lines[i]!.trim());
  let recognized = picked.length > 0;
  if (!recognized) {
    picked = lines.map((line) => NPM_ERROR.exec(line)?.[0]).filter((line): line is string => line !== undefined);
    recognized = picked.length > 0;
  }
  if (!recognized) picked = lines.filter((line) => line.trim() !== '').slice(-FALLBACK_TAIL_LINES);
  const unique = [...new Set(picked)].slice(0, EXCERPT_MAX_LINES);
  const bounded: string[] = [];
  let size = 0;
  for (const line of unique) {
    const cut = line.slice(0, 500);
    if (size + cut.length > EXCERPT_MAX_CHARS) break;
    bounded.push(cut);
    size += cut.length + 1;
  }
  return { lines: bounded, recognized };
}

/** Not a location (`src/a.js:10`, `src/a.js:3:30:`) or a stack frame: those say where, not what. */
function isErrorMessageLine(line: string): boolean {
  return !/^\S+:\d+(?::\d+)?:?$/.test(line) && !/^at /.test(line);
}

/** The excerpt as the alert's message: the error lines of the log, one a line. */
export function buildErrorExcerpt(log: string): string {
  return extractBuildErrors(log).lines.join('\n');
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…(cut: the first ${text.length - max} characters)\n${text.slice(-max)}`;
}

function head(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n…(cut: ${text.length - max} more characters)`;
}

/** The files a unified diff touches (its new names), read from its headers so that a cut diff still names them. */
export function filesOfDiff(diff: string): string[] {
  const files = new Set<string>();
  for (const line of diff.split('\n')) {
    const header = /^diff --git a\/(\S+) b\/(\S+)$/.exec(line);
    if (header) files.add(header[2]!);
    else if (line.startsWith('+++ b/')) files.add(line.slice(6).trim());
  }
  return [...files];
}

/** Paths from the log's error lines (`src/a.ts(3,7)`, `./main.go:12:2`, `/ci/work/src/a.js:10`), relative where they can be. */
function filesOfErrorLines(lines: string[]): string[] {
  const files = new Set<string>();
  for (const line of lines) {
    for (const match of line.matchAll(/(?:^|[\s'"(])((?:\.{0,2}\/)?(?:[\w.@-]+\/)*[\w.@-]+\.[A-Za-z]{1,4})(?=[(:'"]|$)/g)) {
      files.add(match[1]!.replace(/^\.\//, ''));
    }
  }
  return [...files];
}

/** The service's build error as an incident's alert, raised by the deploy watch `watchId`. */
export function alertFromBuildFailure(deploy: DeployEvent, context: { watchId: string; diff: string | null }): NormalizedAlert {
  const log = deploy.build?.log ?? null;
  const excerpt = log ? buildErrorExcerpt(log) : '';
  const errorLines = excerpt ? excerpt.split('\n') : [];
  const shortRevision = deploy.revision.slice(0, 12);
  const message = excerpt || `The build of ${deploy.service} at ${shortRevision} failed; the deploy sent no build log${deploy.build?.logUrl ? ` (see ${deploy.build.logUrl})` : ''}.`;
  return {
    monitorId: `deploy:${deploy.service}`,
    alertCycleKey: `build-${deploy.revision}`,
    transition: 'triggered',
    rawTransition: 'build_failed',
    priority: null,
    title: `Build failed: ${deploy.service} at ${shortRevision}`,
    message,
    tags: [`service:${deploy.service}`, `git.commit.sha:${deploy.revision}`, ...(deploy.environment ? [`env:${deploy.environment}`] : [])],
    service: deploy.service,
    deployedRevision: deploy.revision,
    occurredAt: deploy.deployedAt,
    link: deploy.build?.logUrl ?? '',
    eventId: null,
    buildFailure: {
      watchId: context.watchId,
      revision: deploy.revision,
      previousRevision: deploy.previousRevision,
      signature: errorLines.length > 0 ? errorSignature(errorLines.find(isErrorMessageLine) ?? errorLines[0]!) : `build failed: ${deploy.service}`,
      errorExcerpt: excerpt,
      log: log === null ? null : tail(log, BUILD_LOG_TAIL_CHARS),
      logUrl: deploy.build?.logUrl ?? null,
      diffSinceLastDeploy: context.diff === null ? null : head(context.diff, BUILD_DIFF_MAX_CHARS),
    },
  };
}

/** Files the triage of a build failure points at: those its errors name, then those the latest change touched. */
export function suspectedFilesOfBuildFailure(build: { errorExcerpt: string; diffSinceLastDeploy: string | null }): string[] {
  const changed = build.diffSinceLastDeploy ? filesOfDiff(build.diffSinceLastDeploy) : [];
  // A CI runner's absolute path is no path of the repository: it counts as the changed file it ends with, or not at all.
  const named = filesOfErrorLines(build.errorExcerpt.split('\n'))
    .map((file) => (file.startsWith('/') ? (changed.find((c) => file.endsWith(`/${c}`)) ?? null) : file))
    .filter((file): file is string => file !== null);
  // A file both named and changed first: that is where the break most likely is.
  const both = named.filter((file) => changed.some((c) => c === file || c.endsWith(`/${file}`) || file.endsWith(`/${c}`)));
  return [...new Set([...both, ...changed, ...named])].slice(0, 8);
}

/**
 * One error line as it compares between machines: paths differ (a CI runner's checkout, the
 * sandbox's), so each path keeps its file name only; the rest is the error signature's normalization.
 */
function comparableErrorLine(line: string): string {
  return errorSignature(line.replace(/(?:[A-Za-z]:)?(?:[\w.@~-]*[\\/])+([\w.@-]+)/g, '$1'));
}

/**
 * A build reproduces the failure when it fails with the error of the build log: one of the log's
 * error lines (compared as signatures, paths reduced to file names) is among the build's. A log
 * with no error in a known shape is compared by its last lines; no log at all leaves the failure
 * itself as the only evidence, which the explanation says.
 */
export function matchBuildFailure(expectedExcerpt: string, buildOutput: string): ReproductionMatch {
  if (expectedExcerpt.trim() === '') {
    return { matched: true, explanation: 'The build fails; the deploy sent no build log, so its error could not be compared.' };
  }
  const expected = extractBuildErrors(expectedExcerpt).lines.filter(isErrorMessageLine);
  const outputLines = new Set([...extractBuildErrors(buildOutput).lines, ...cleanLines(buildOutput)].map((line) => comparableErrorLine(line.trim())));
  const found = expected.find((line) => outputLines.has(comparableErrorLine(line)));
  if (found) return { matched: true, explanation: `The build fails with the build log's error: ${found}` };
  const got = extractBuildErrors(buildOutput).lines.slice(0, 3).join(' / ') || '(no output)';
  return { matched: false, explanation: `The build fails, but not with the build log's error (expected "${expected[0] ?? expectedExcerpt.split('\n')[0]}"; it printed "${got}").` };
}
