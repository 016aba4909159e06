import type { EvalRunner } from '../cli/context';
import { evalModelSettings } from '../config/eval.config';
import { SUITE_NAMES, type SuiteName } from '../evals/cases/case.schema';
import { filterCases } from '../evals/cases/case-filter';
import { runEval } from '../evals/runner/run-eval';
import { EVAL_SUITES } from '../evals/suites';
import { buildEvalModelSource } from './eval-models';

/** Reads a suite's cases, each validated (a malformed one fails with its file and field). */
export type SuiteCaseReader = (suite: SuiteName) => Promise<{ id: string; categories: string[]; difficulty: string }[]>;

/** `steward eval run`, composed: the suite, its cases, and the answers the request names. */
export function buildEvalRunner(env: NodeJS.ProcessEnv, readCases: SuiteCaseReader): EvalRunner {
  return {
    async run(request) {
      if (!(SUITE_NAMES as string[]).includes(request.suite)) throw new Error(`there is no suite ${request.suite}; the suites are ${SUITE_NAMES.join(', ')}`);
      const suiteName = request.suite as SuiteName;
      const settings = evalModelSettings(request.model, { record: request.record }, env);
      const cases = filterCases(await readCases(suiteName), request.cases);
      return runEval({
        suite: EVAL_SUITES[suiteName],
        cases,
        repeat: request.repeat,
        concurrency: request.concurrency,
        outDir: request.outDir,
        source: buildEvalModelSource(settings, suiteName),
        log: request.log,
      });
    },
  };
}
