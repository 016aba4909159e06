import * as fs from 'node:fs';
import type { BacktestRunner } from '../cli/context';
import { loadConfig } from '../config/config';
import { ensureDemoRepository } from '../infra/demo-fixtures';
import { isSuiteName, readRecordedIncidents, triageCasesAsIncidents, type RecordedIncident } from '../evals/backtest/recorded-incident';
import { runBacktest } from '../evals/backtest/run-backtest';
import type { TriageCase } from '../evals/cases/case.schema';
import { evalModelSettings } from '../config/eval.config';
import { recordingPath } from './eval-models';
import { startBacktestSteward } from './backtest-runner';
import type { SuiteCaseReader } from './eval-runner';

/**
 * `steward backtest <suite | folder>`, composed: the recorded incidents (a folder of them, or the
 * triage suite's cases with their recorded answers), this process's back-test Steward, the run.
 */
export function buildBacktestRunner(env: NodeJS.ProcessEnv, readCases: SuiteCaseReader): BacktestRunner {
  return {
    async run(request) {
      let incidents: RecordedIncident[];
      let leftOut: { id: string; reason: string }[] = [];
      if (isSuiteName(request.source)) {
        if (request.source !== 'triage') throw new Error(`backtest ${request.source}: only the triage suite's cases are alerts an incident can start from; give a folder of recorded incidents instead`);
        const settings = evalModelSettings(null, { record: false }, env);
        if (settings.kind !== 'replay') throw new Error('unreachable: no --model means replay');
        const cases = (await readCases('triage')) as TriageCase[];
        const converted = triageCasesAsIncidents(cases, (id) => {
          const file = recordingPath(settings.recordingsDir, 'triage', id);
          return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as unknown) : null;
        });
        incidents = converted.incidents;
        leftOut = converted.unrecorded.map((id) => ({ id, reason: 'no recording of the case (evals/recordings/triage)' }));
      } else {
        incidents = readRecordedIncidents(request.source);
      }
      const config = loadConfig(env);
      if (config.servicesSource === 'demo') ensureDemoRepository(config.services['checkout-service']!.repository);
      const steward = await startBacktestSteward(config, { outDir: request.outDir, log: request.log });
      for (const label of steward.labels) request.log(`backtest: ${label}`);
      try {
        return await runBacktest({ incidents, leftOut, outDir: request.outDir, concurrency: request.concurrency, driver: steward.driver, log: request.log });
      } finally {
        await steward.close();
      }
    },
  };
}
