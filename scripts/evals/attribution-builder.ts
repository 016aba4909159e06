import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { changedLineAt } from '../../domain/deploy-triage/grounding';
import { errorSignature } from '../../domain/error-signature';
import { parseUnifiedDiff } from '../../domain/unified-diff';
import type { AttributionCaseInput } from '../../evals/cases/case.schema';

/**
 * A deploy-attribution case from its scenario: the files before and after each deploy are committed
 * to a scratch git repository with fixed authors and dates, and each deploy's diff is what
 * `git diff <previous> <revision>` prints there, so revisions are real commit ids and the diffs are
 * real unified diffs. The cited line is found in the diff by its text, so its number is the diff's.
 */

export type Files = Record<string, string>;

export interface FlaggedSpec {
  template: string;
  message: string;
  stackTrace?: string;
  baselineCount: number;
  afterCount: number;
}

export interface AttributionScenario {
  id: string;
  description: string;
  difficulty: 'easy' | 'medium' | 'hard';
  categories: string[];
  service: string;
  /** The repository before the first deploy. */
  base: Files;
  /** Each deploy's changed files, oldest first; the last is the deploy under watch. A null content deletes the file. */
  deploys: Record<string, string | null>[];
  flagged: FlaggedSpec[];
  verdict: 'caused' | 'not_caused';
  /** The changed line that causes it: in which deploy (index into `deploys`, default the last), found by its text. */
  cite?: { deploy?: number; file: string; text: string; side?: 'new' | 'old' };
  facts: string[];
}

function git(dir: string, args: string[], date: string): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'steward-evals', GIT_AUTHOR_EMAIL: 'evals@steward.invalid', GIT_COMMITTER_NAME: 'steward-evals', GIT_COMMITTER_EMAIL: 'evals@steward.invalid', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
}

function writeFiles(dir: string, files: Record<string, string | null>): void {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    if (content === null) fs.rmSync(target, { force: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, content);
    }
  }
}

export function attributionCaseOf(s: AttributionScenario): AttributionCaseInput {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-attribution-'));
  try {
    git(dir, ['init', '-q', '-b', 'main'], '2026-01-01T00:00:00Z');
    writeFiles(dir, s.base);
    git(dir, ['add', '-A'], '2026-01-01T00:00:00Z');
    git(dir, ['commit', '-q', '-m', `${s.service}: base`], '2026-01-01T00:00:00Z');
    const revisions = [git(dir, ['rev-parse', 'HEAD'], '2026-01-01T00:00:00Z').trim()];
    s.deploys.forEach((changes, index) => {
      const date = `2026-01-0${2 + index}T00:00:00Z`;
      writeFiles(dir, changes);
      git(dir, ['add', '-A'], date);
      git(dir, ['commit', '-q', '-m', `${s.service}: deploy ${index + 1}`], date);
      revisions.push(git(dir, ['rev-parse', 'HEAD'], date).trim());
    });
    const diffs = s.deploys.map((_, index) => git(dir, ['diff', '--no-color', '--no-renames', revisions[index]!, revisions[index + 1]!], '2026-01-01T00:00:00Z'));
    const files: Files = {};
    for (const file of git(dir, ['ls-files'], '2026-01-01T00:00:00Z').split('\n').filter(Boolean)) files[file] = fs.readFileSync(path.join(dir, file), 'utf8');

    let citedLine: { file: string; line: number; side: 'new' | 'old' } | null = null;
    let causedBy: string | undefined;
    if (s.cite) {
      const deployIndex = s.cite.deploy ?? s.deploys.length - 1;
      const side = s.cite.side ?? 'new';
      const patches = parseUnifiedDiff(diffs[deployIndex]!);
      const patch = patches.find((p) => (side === 'new' ? p.newPath : p.oldPath) === s.cite!.file);
      if (!patch) throw new Error(`${s.id}: deploy ${deployIndex + 1} does not change ${s.cite.file}`);
      const start = side === 'new' ? Math.min(...patch.hunks.map((h) => h.newStart)) : Math.min(...patch.hunks.map((h) => h.oldStart));
      const end = Math.max(...patch.hunks.map((h) => (side === 'new' ? h.newStart + h.newLines : h.oldStart + h.oldLines)));
      for (let line = Math.max(start, 1); line <= end && !citedLine; line++) {
        const changed = changedLineAt(patches, s.cite.file, line, side);
        if (changed && changed.text.includes(s.cite.text)) citedLine = { file: s.cite.file, line, side };
      }
      if (!citedLine) throw new Error(`${s.id}: no ${side === 'new' ? 'added' : 'removed'} line of ${s.cite.file} holds ${JSON.stringify(s.cite.text)}`);
      if (deployIndex !== s.deploys.length - 1) causedBy = revisions[deployIndex + 1];
    }

    const deploys = s.deploys
      .map((_, index) => ({ revision: revisions[index + 1]!, previousRevision: revisions[index]!, diffText: diffs[index]! }))
      .reverse();
    return {
      id: s.id,
      description: s.description,
      difficulty: s.difficulty,
      categories: s.categories,
      provenance: { kind: 'hand_written', author: 'steward-evals', note: 'diffs generated with git from the before and after files of scripts/evals/attribution-cases.ts' },
      input: {
        service: s.service,
        deploys,
        flagged: s.flagged.map((f) => ({
          signature: errorSignature(f.message),
          template: f.template,
          sample: { message: f.message, stackTrace: f.stackTrace ?? null },
          baselineCount: f.baselineCount,
          afterCount: f.afterCount,
        })),
        files,
      },
      labels: { verdict: s.verdict, citedLine, facts: s.facts },
      ...(causedBy ? { causedBy } : {}),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
