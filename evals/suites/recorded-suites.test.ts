import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CliIo } from '../../cli/context';
import { runCli } from '../../cli/program';
import { EVAL_DATASETS_DIR, EVAL_RECORDINGS_DIR } from '../../config/paths';
import { buildCliContext } from '../../workers/cli-context';
import type { EvalSummary } from '../runner/eval-summary';
import { SUITE_NAMES } from '../cases/case.schema';

/**
 * What CI runs of the suites: `steward eval run <suite>` on the shipped recordings, through the
 * CLI as a person runs it. The recordings are reference answers written from the labels
 * (scripts/evals/record-reference-answers.ts), so every recorded case must come out right: one
 * that does not means a step, its prompt building or its grounding broke on real dataset cases
 * (this test found the deploy triage stopping at a docs-only deploy instead of looking back).
 * The rest of each suite is reported not run, never guessed.
 */
describe.each(SUITE_NAMES)('eval run %s on the recorded answers', (suite) => {
  it('judges every recorded case right, says it replayed, and reports the unrecorded as not run', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), `eval-${suite}-`));
    const lines: string[] = [];
    const io: CliIo = { out: (t) => lines.push(t), err: () => undefined, write: () => undefined };
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|ANTHROPIC_|OPENAI_)/.test(name)));
    const code = await runCli(['eval', 'run', suite, '--out', out, '--json', '--concurrency', '4'], buildCliContext(io, env));
    expect(code).toBe(0);
    const printed = JSON.parse(lines.at(-1)!) as { summary: EvalSummary };
    expect(printed.summary.source.mode).toBe('replay');

    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as EvalSummary;
    const recorded = fs.readdirSync(path.join(EVAL_RECORDINGS_DIR, suite)).filter((f) => f.endsWith('.json')).length;
    const cases = fs.readdirSync(path.join(EVAL_DATASETS_DIR, suite)).filter((f) => f.endsWith('.json')).length;
    expect(recorded).toBeGreaterThanOrEqual(8);
    expect(summary.counts).toEqual({ cases, repeats: cases, judged: recorded, failed: 0, notRun: cases - recorded });
    const wrong = summary.cases.flatMap((c) => c.repeats.filter((r) => r.status === 'judged' && r.correct !== true).map((r) => ({ id: c.id, predicted: r.predicted, checks: r.checks })));
    expect(wrong).toEqual([]);
    expect(summary.figures.factsMentioned.share).toBe(1);
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('these figures test the harness on recorded answers');
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe('steward eval run, its options', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|ANTHROPIC_|OPENAI_)/.test(name)));
  const run = async (args: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['eval', 'run', ...args], buildCliContext({ out: (t) => out.push(t), err: (t) => err.push(t), write: () => undefined }, env));
    return { code, out, err };
  };

  it('filters cases, repeats them, compares with an earlier run, and fails under a floor', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-options-'));
    const first = await run(['triage', '--cases', 'bgl-*,canary-node-bad-disk', '--repeat', '2', '--out', path.join(root, 'a')]);
    expect(first.code).toBe(0);
    expect(first.out[0]).toMatch(/^triage: accuracy 100\.0% \(6\/6\); 6 judged, 0 failed, \d+ not run; answers from replay/);
    const summary = JSON.parse(fs.readFileSync(path.join(root, 'a', 'summary.json'), 'utf8')) as EvalSummary;
    // Five recorded bgl-* cases and the canary, twice each; the recordings hold one repeat, so the second is not run.
    expect(summary.cases.every((c) => c.id.startsWith('bgl-') || c.id === 'canary-node-bad-disk')).toBe(true);
    expect(summary.figures.repeatability.cases).toBe(0);

    const second = await run(['triage', '--cases', 'category:flapping', '--out', path.join(root, 'b'), '--compare', path.join(root, 'a'), '--fail-under', '1']);
    expect(second.code).toBe(0);
    expect(second.out.join('\n')).toContain('Compared with the earlier run (triage):');
    expect(second.out.join('\n')).toMatch(/Only in this run: .*auth-error-budget-burn-flapping/);

    const none = await run(['triage', '--cases', 'no-such-case', '--out', path.join(root, 'c')]);
    expect(none.code).toBe(1);
    expect(none.err.join('\n')).toContain('--cases no-such-case: no case matches');
    const badRepeat = await run(['triage', '--repeat', '0']);
    expect(badRepeat.code).toBe(2);
    expect(badRepeat.err.join('\n')).toContain('--repeat: at least 1');
    const noKey = await run(['triage', '--model', 'anthropic:claude-haiku-4-5', '--out', path.join(root, 'd')]);
    expect(noKey.code).toBe(2);
    expect(noKey.err.join('\n')).toContain('ANTHROPIC_API_KEY is not set');
    fs.rmSync(root, { recursive: true, force: true });
  });
});
