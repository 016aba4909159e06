import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createReproduceActivities, type SuiteRun } from '../../activities/reproduce/reproduce.activities';
import { demoServicesConfig, type ServicesConfig } from '../../config/config';
import { normalizeDatadogPayload, type NormalizedAlert } from '../../domain/alert';
import type { Reproduction } from '../../domain/incident';
import { TriageResult } from '../../domain/triage';
import { demoAlertPayload, ensureDemoRepository } from '../../infra/demo-fixtures';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { InMemoryCodeHost } from '../fakes/in-memory-code-host';
import { demoTranscriptSteps, ScriptedModel } from '../fakes/scripted-model';

/** Runs an activity in the mocked activity context; `MockActivityEnvironment.run` loses the result type, so it is restored here. */
export function runActivity<A extends unknown[], R>(env: MockActivityEnvironment, activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return env.run(activity, ...args) as Promise<R>;
}

/** Activities that fail on purpose would otherwise print their failure as a warning. */
export function activityEnvironment(): MockActivityEnvironment {
  return new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
}

export interface ReproducedDemoIncident {
  scratch: string;
  sandboxRoot: string;
  revision: string;
  services: ServicesConfig;
  alert: NormalizedAlert;
  triage: TriageResult;
  /** What every fix attempt is judged against, made the way the workflow makes them. */
  reproduction: Reproduction;
  baseline: SuiteRun;
  cleanUp(): void;
}

/** The demo repository in a scratch folder, with the demo incident reproduced in a process sandbox: where fix tests start. */
export async function reproducedDemoIncident(name: string): Promise<ReproducedDemoIncident> {
  const scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), `${name}-`));
  const services = demoServicesConfig(scratch);
  const repositoryPath = services['checkout-service']!.repository;
  const revision = ensureDemoRepository(repositoryPath);
  const sandboxRoot = path.join(scratch, 'sandboxes');
  const alert = normalizeDatadogPayload(demoAlertPayload({ alertCycleKey: name, deployedRevision: revision }));
  const triage = TriageResult.parse(demoTranscriptSteps().triage);
  const reproduce = createReproduceActivities({
    model: ScriptedModel.fromDemoTranscript(),
    sandbox: new ProcessSandbox({ root: sandboxRoot }),
    codeHost: new InMemoryCodeHost({ repositories: { [repositoryPath]: { main: revision } } }),
    services,
  });
  const outcome = await runActivity(activityEnvironment(), reproduce.reproduceIncident, { incidentId: `incident-${name}-reproduction`, alert, triage });
  if (!outcome.reproduction) throw new Error(`the demo incident did not reproduce: ${JSON.stringify(outcome.refusedTries)}`);
  return {
    scratch,
    sandboxRoot,
    revision,
    services,
    alert,
    triage,
    reproduction: outcome.reproduction,
    baseline: outcome.baseline,
    cleanUp: () => fs.rmSync(scratch, { recursive: true, force: true }),
  };
}
