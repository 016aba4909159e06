import { readMergedDiff } from './merged-diff';

/** Seeded, so that a failure repeats; fast-check is not among the dependencies. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface HunkSpec {
  oldStart: number;
  newStart: number;
  /** Each line with its diff prefix: ' ' context, '+' added, '-' removed. */
  lines: string[];
}

function hunkText({ oldStart, newStart, lines }: HunkSpec): string {
  const oldLines = lines.filter((l) => !l.startsWith('+')).length;
  const newLines = lines.filter((l) => !l.startsWith('-')).length;
  return `@@ -${oldStart},${oldLines} +${newStart},${newLines} @@\n${lines.map((l) => `${l}\n`).join('')}`;
}

/** A file patch as `git diff` prints it. */
function modified(path: string, hunks: HunkSpec[]): string {
  return `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n${hunks.map(hunkText).join('')}`;
}

function added(path: string, lines: string[]): string {
  return `diff --git a/${path} b/${path}\nnew file mode 100644\nindex 0000000..3333333\n--- /dev/null\n+++ b/${path}\n${hunkText({ oldStart: 0, newStart: 1, lines: lines.map((l) => `+${l}`) })}`;
}

function deleted(path: string, lines: string[]): string {
  return `diff --git a/${path} b/${path}\ndeleted file mode 100644\nindex 4444444..0000000\n--- a/${path}\n+++ /dev/null\n${hunkText({ oldStart: 1, newStart: 0, lines: lines.map((l) => `-${l}`) })}`;
}

function renamed(from: string, to: string, hunks: HunkSpec[]): string {
  const header = `diff --git a/${from} b/${to}\nsimilarity index 90%\nrename from ${from}\nrename to ${to}\n`;
  return hunks.length === 0 ? header : `${header}index 5555555..6666666 100644\n--- a/${from}\n+++ b/${to}\n${hunks.map(hunkText).join('')}`;
}

function binary(path: string): string {
  return `diff --git a/${path} b/${path}\nindex 7777777..8888888 100644\nBinary files a/${path} and b/${path} differ\n`;
}

const BUDGET = 100_000;

describe('readMergedDiff', () => {
  it('places each file in its class, and counts only runtime source as something a monitor can watch', () => {
    const diff = [
      added('src/refunds.js', ["log.error('refund rejected');", 'module.exports = {};']),
      modified('package-lock.json', [{ oldStart: 3, newStart: 3, lines: [' {', '-  "version": "1.0.0"', '+  "version": "1.1.0"'] }]),
      added('Dockerfile', ['FROM node:20', 'CMD ["node", "src/index.js"]']),
      added('migrations/001_refunds.sql', ['CREATE TABLE refunds (id int);']),
      added('test/refunds.test.js', ["test('refunds', () => {});"]),
      modified('README.md', [{ oldStart: 1, newStart: 1, lines: [' # checkout', '+Refunds are new.'] }]),
    ].join('');
    const view = readMergedDiff(diff, BUDGET);
    const byPath = Object.fromEntries(view.files.map((f) => [f.path, [f.fileClass, f.runtimeSource]]));
    expect(byPath).toEqual({
      'src/refunds.js': ['runtime', true],
      // They change what runs, but no line of them is one a monitor can match.
      'package-lock.json': ['runtime', false],
      Dockerfile: ['runtime', false],
      'migrations/001_refunds.sql': ['runtime', true],
      'test/refunds.test.js': ['test', false],
      'README.md': ['docs', false],
    });
    expect(view.newRuntimeLines).toEqual(['src/refunds.js:1', 'src/refunds.js:2', 'migrations/001_refunds.sql:1']);
    expect(view.filesByClass).toBe('runtime 4, test 1, docs 1');
    expect(view).toMatchObject({ summarizedFiles: [], skippedBinary: [], note: null });
    // Within the budget the agent reads every patch, runtime source first.
    expect(view.agentDiff.indexOf('src/refunds.js')).toBeLessThan(view.agentDiff.indexOf('package-lock.json'));
    expect(view.agentDiff.indexOf('migrations/001_refunds.sql')).toBeLessThan(view.agentDiff.indexOf('package-lock.json'));
    expect(view.agentDiff).toContain('+Refunds are new.');
  });

  it('numbers added lines on the new side, across hunks, past removed lines', () => {
    const diff = modified('src/pricing.js', [
      { oldStart: 2, newStart: 2, lines: [' a', '-b', '-c', '+B', ' d', '+e'] },
      // The first hunk took one line net: the second starts one lower on the new side.
      { oldStart: 20, newStart: 19, lines: [' x', '+y', '+z', ' w', '-v'] },
    ]);
    const [file] = readMergedDiff(diff, BUDGET).files;
    expect(file).toMatchObject({ path: 'src/pricing.js', status: 'modified', addedLines: [3, 5, 20, 21], removedCount: 3, oldPath: null });
  });

  it('numbers added lines exactly for random hunks (seeded)', () => {
    const random = seeded(20261202);
    for (let round = 0; round < 200; round += 1) {
      // A new file of kept and added lines, with removed lines between; hunks cut out of it with unchanged gaps skipped.
      const hunks: HunkSpec[] = [];
      const expected: number[] = [];
      let oldLine = 1;
      let newLine = 1;
      const hunkCount = 1 + Math.floor(random() * 4);
      for (let h = 0; h < hunkCount; h += 1) {
        const gap = Math.floor(random() * 30);
        oldLine += gap;
        newLine += gap;
        const hunk: HunkSpec = { oldStart: oldLine, newStart: newLine, lines: [] };
        const length = 1 + Math.floor(random() * 12);
        for (let i = 0; i < length; i += 1) {
          const roll = random();
          if (roll < 0.4) {
            hunk.lines.push(`+new ${newLine}`);
            expected.push(newLine);
            newLine += 1;
          } else if (roll < 0.7) {
            hunk.lines.push(`-old ${oldLine}`);
            oldLine += 1;
          } else {
            hunk.lines.push(` same ${oldLine}`);
            oldLine += 1;
            newLine += 1;
          }
        }
        hunks.push(hunk);
      }
      const [file] = readMergedDiff(modified('src/random.ts', hunks), BUDGET).files;
      expect(file!.addedLines).toEqual(expected);
      expect(file!.removedCount).toBe(hunks.flatMap((h) => h.lines).filter((l) => l.startsWith('-')).length);
    }
  });

  it('tells renames (with and without changes) and deletions apart, keeping the old path of a rename', () => {
    const diff = [
      renamed('src/old-name.js', 'src/new-name.js', [{ oldStart: 1, newStart: 1, lines: [' keep', '+added after the move'] }]),
      renamed('src/moved.js', 'lib/moved.js', []),
      deleted('src/gone.js', ['one', 'two', 'three']),
    ].join('');
    const view = readMergedDiff(diff, BUDGET);
    expect(view.files.map((f) => [f.path, f.oldPath, f.status, f.addedLines, f.removedCount])).toEqual([
      ['src/new-name.js', 'src/old-name.js', 'renamed', [2], 0],
      ['lib/moved.js', 'src/moved.js', 'renamed', [], 0],
      ['src/gone.js', null, 'deleted', [], 3],
    ]);
    // Only the line added after the move is new: a moved or deleted file adds nothing to watch.
    expect(view.newRuntimeLines).toEqual(['src/new-name.js:2']);
  });

  it('skips a binary file, names it, and shows the agent nothing of it', () => {
    const diff = [binary('assets/logo.png'), added('src/refunds.js', ["log.error('refund rejected');"])].join('');
    const view = readMergedDiff(diff, BUDGET);
    expect(view.skippedBinary).toEqual(['assets/logo.png']);
    expect(view.files[0]).toMatchObject({ path: 'assets/logo.png', status: 'binary', runtimeSource: false, addedLines: [] });
    expect(view.note).toBe('binary files skipped: assets/logo.png');
    expect(view.agentDiff).not.toContain('logo.png');
    expect(view.agentDiff).toContain("+log.error('refund rejected');");
    expect(view.newRuntimeLines).toEqual(['src/refunds.js:1']);
  });

  it('summarizes a diff over the budget: runtime source shown first, every file left out listed with its counts', () => {
    const docs = modified('docs/refunds.md', [{ oldStart: 1, newStart: 1, lines: [' # Refunds', ...Array.from({ length: 60 }, (_, i) => `+A line of documentation, number ${i}.`)] }]);
    const lockfile = modified('package-lock.json', [{ oldStart: 1, newStart: 1, lines: [' {', ...Array.from({ length: 40 }, (_, i) => `+  "dependency-${i}": "1.0.${i}",`), '-  "old": "0.0.1"'] }]);
    const source = added('src/refunds.js', Array.from({ length: 30 }, (_, i) => `log.error('refund failure ${i}');`));
    // Docs and the lockfile first in the diff: the budget must still go to the source.
    const diff = [docs, lockfile, source].join('');
    const budget = source.length + 200;
    expect(budget).toBeLessThan(source.length + Math.min(docs.length, lockfile.length));
    const view = readMergedDiff(diff, budget);

    expect(view.agentDiff.startsWith(source)).toBe(true);
    // Past the runtime source, the rest goes in diff order.
    expect(view.summarizedFiles).toEqual(['docs/refunds.md', 'package-lock.json']);
    expect(view.agentDiff).toContain('Files not shown:\n');
    expect(view.agentDiff).toContain('- docs/refunds.md (docs, modified): +60 −0 lines, not shown; read_file to see it');
    expect(view.agentDiff).toContain('- package-lock.json (runtime, modified): +40 −1 lines, not shown; read_file to see it');
    expect(view.agentDiff).not.toContain('A line of documentation');
    expect(view.note).toBe(`the diff is larger than ${budget} characters: 2 file(s) are summarized below instead of shown`);
    // What the caps count is the whole change, not the agent's view of it.
    expect(view.newRuntimeLines).toHaveLength(30);
  });

  it('summarizes runtime source too when it alone is over the budget, and still counts its lines', () => {
    const big = added('src/big.js', Array.from({ length: 200 }, (_, i) => `log.info('step ${i} of a long job');`));
    const view = readMergedDiff(big, 1_000);
    expect(view.summarizedFiles).toEqual(['src/big.js']);
    expect(view.agentDiff).toBe('Files not shown:\n- src/big.js (runtime, added): +200 −0 lines, not shown; read_file to see it\n');
    expect(view.newRuntimeLines).toHaveLength(200);
  });

  it('refuses a budget that is not a whole number of at least 1,000 characters', () => {
    const diff = added('src/a.js', ['x']);
    for (const budget of [999, 0, -5, 1_500.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => readMergedDiff(diff, budget)).toThrow(RangeError);
    }
    expect(() => readMergedDiff(diff, 999)).toThrow('maxAgentChars must be a whole number of at least 1,000, not 999');
    expect(readMergedDiff(diff, 1_000).files).toHaveLength(1);
  });

  it('reads an empty diff as no files, and skips a mode change without hunks as nothing added', () => {
    expect(readMergedDiff('', BUDGET)).toMatchObject({ files: [], agentDiff: '', newRuntimeLines: [], filesByClass: '', note: null });
    const modeOnly = 'diff --git a/bin/run.js b/bin/run.js\nold mode 100644\nnew mode 100755\n';
    const view = readMergedDiff(modeOnly + added('src/a.js', ['x']), BUDGET);
    expect(view.newRuntimeLines).toEqual(['src/a.js:1']);
    expect(view.files.find((f) => f.path === 'bin/run.js')?.addedLines ?? []).toEqual([]);
  });
});
