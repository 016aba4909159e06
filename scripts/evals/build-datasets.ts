import * as path from 'node:path';
import { EVAL_DATASETS_DIR } from '../../config/paths';
import { CaseStore, CaseStoreError } from '../../evals/cases/case-store';
import type { SuiteName } from '../../evals/cases/case.schema';
import { attributionCaseOf } from './attribution-builder';
import { ATTRIBUTION_SCENARIOS } from './attribution-cases';
import { HAND, triageCaseOf } from './triage-builder';
import { HAND_DUPLICATE_SCENARIOS, HAND_EXTRA_SCENARIOS, HAND_INJECTION_SCENARIOS, HAND_NOISE_SCENARIOS, HAND_SCENARIOS } from './triage-hand';
import { publicTriageScenarios } from './triage-public';

/**
 * Writes the generated eval cases into evals/datasets (or --out <dir>), through the case store, so
 * every case is validated and formatted as `steward eval add` would write it. Cases are replaced by
 * id; cases added by hand under other ids are left alone. The public-data cases need a checkout of
 * github.com/logpai/loghub: `npx tsx scripts/evals/build-datasets.ts --loghub <dir>`.
 */
async function main(argv: string[]): Promise<void> {
  const option = (name: string): string | undefined => {
    const index = argv.indexOf(name);
    return index < 0 ? undefined : argv[index + 1];
  };
  const loghub = option('--loghub');
  if (!loghub) throw new Error('--loghub <dir>: a checkout of github.com/logpai/loghub, for the public-data triage cases');
  const store = new CaseStore(path.resolve(option('--out') ?? EVAL_DATASETS_DIR));

  const triage = [
    ...publicTriageScenarios(path.resolve(loghub)),
    ...[...HAND_SCENARIOS, ...HAND_NOISE_SCENARIOS, ...HAND_DUPLICATE_SCENARIOS, ...HAND_INJECTION_SCENARIOS, ...HAND_EXTRA_SCENARIOS].map((s) => ({ ...s, provenance: HAND })),
  ].map(triageCaseOf);
  const attribution = ATTRIBUTION_SCENARIOS.map(attributionCaseOf);

  for (const [suite, cases] of [['triage', triage], ['deploy-attribution', attribution]] as [SuiteName, { id: string }[]][]) {
    const seen = new Set<string>();
    for (const c of cases) {
      if (seen.has(c.id)) throw new Error(`${suite}: two generated cases are named ${c.id}`);
      seen.add(c.id);
      try {
        await store.add(suite, c);
      } catch (error) {
        if (!(error instanceof CaseStoreError) || error.type !== 'EvalCaseExists') throw error;
        await store.replace(suite, c.id, c);
      }
    }
    console.log(`${suite}: ${cases.length} cases written`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
