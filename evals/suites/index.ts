import type { SuiteName } from '../cases/case.schema';
import type { EvalSuite } from '../runner/suite';
import { deployAttributionSuite } from './deploy-attribution/deploy-attribution.suite';
import { triageSuite } from './triage/triage.suite';

/** Every suite by its dataset folder's name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each suite is typed by its own case; the runner takes any of them.
export const EVAL_SUITES: Record<SuiteName, EvalSuite<any, any>> = {
  triage: triageSuite,
  'deploy-attribution': deployAttributionSuite,
};
