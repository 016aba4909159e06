import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { alertDeliveredSignal, incidentStateQuery, incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, SEARCH_ATTRIBUTES, type IncidentWorkflowInput } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { alertFromBuildFailure } from '../../domain/build-failure';
import type { DeployEvent } from '../../domain/deploy';
import { BROKEN_BUILD_LOG, brokenBuildDeploy, BUILD_FAILURE_TRANSCRIPT_PATH, commitBrokenBuild, demoDiff } from '../../infra/demo-fixtures';
import { ScriptedModel } from '../../test/fakes/scripted-model';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import type { IncidentOutcome } from './incident.workflow';

/**
 * A failed deploy build through the real incident workflow on the dev server: a process sandbox
 * over a copy of the demo repository whose latest commit breaks the build, the fix agent's turns
 * from the build-failure transcript (scripted), and the real build and suite as the gate.
 */
describe('incident workflow: a failed build', () => {
  let h: Harness;
  let broken: { revision: string; previousRevision: string };
  let model: ScriptedModel;
  beforeAll(async () => {
    h = await createHarness();
    broken = commitBrokenBuild(h.repositoryPath);
    const transcript = JSON.parse(fs.readFileSync(BUILD_FAILURE_TRANSCRIPT_PATH, 'utf8')) as { steps: Record<string, { response: unknown }> };
    model = new ScriptedModel(Object.fromEntries(Object.entries(transcript.steps).map(([step, { response }]) => [step, response])));
    await h.startWorker({ ports: { model } });
  });
  afterAll(async () => {
    await h?.close();
  });

  const buildAlert = (overrides: Partial<DeployEvent> = {}): NormalizedAlert => {
    const deploy: DeployEvent = {
      ...brokenBuildDeploy(broken, new Date('2026-11-20T10:02:00.000Z')),
      build: { status: 'failure', log: BROKEN_BUILD_LOG, logUrl: 'https://ci.example.com/checkout-service/runs/812' },
      ...overrides,
    };
    return alertFromBuildFailure(deploy, { watchId: `deploy-watch-checkout-service-${deploy.revision}`, diff: demoDiff(h.repositoryPath, broken.previousRevision, deploy.revision) });
  };

  const start = (alert: NormalizedAlert) =>
    h.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
      taskQueue: h.taskQueue,
      args: [{ alert, policy: { ...testPolicy(), sandboxTaskQueue: sandboxQueueFor(h.taskQueue) } } satisfies IncidentWorkflowInput],
      signal: alertDeliveredSignal,
      signalArgs: [alert],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });

  it('takes the broken build to a PR that makes it pass, verified by the build and the suite, without triage or a monitor', async () => {
    const handle = await start(buildAlert());
    const outcome = (await handle.result()) as IncidentOutcome;

    expect(outcome.status).toBe('pr_opened');
    const state = await handle.query(incidentStateQuery);
    expect(state.signature).toBe("Error: Cannot find module './shipping-rules'");
    expect(state.triage).toMatchObject({ verdict: 'real', severity: 'P2', suspectedArea: { files: ['src/pricing.js', 'src/shipping.js'] } });
    expect(state.reproduction).toMatchObject({ testPath: null, command: 'node scripts/build.js', match: "The build fails with the build log's error: Error: Cannot find module './shipping-rules'" });
    expect(state.attempts.map((a) => a.verified)).toEqual([true]);
    expect(state.attempts[0]!.reproAfter).toMatchObject({ command: 'node scripts/build.js', exitCode: 0 });

    // No model was asked to triage or to write a reproduction: the fix agent's turns and the review only.
    expect(model.stepsAsked()).toEqual(['fix.attempt-1.turn-1', 'fix.attempt-1.turn-2', 'fix.attempt-1.turn-3', 'fix.attempt-1.turn-4', 'fix.attempt-1.turn-5', 'review.attempt-1']);
    const task = model.lastConversation('fix.attempt-1.turn-1').messages[0]!;
    const taskText = task.role === 'user' ? task.content : '';
    expect(taskText).toContain('The reproduction is the build command, `node scripts/build.js`.');
    expect(taskText).toContain(`<untrusted source="build-log-errors">\nError: Cannot find module './shipping-rules'`);
    expect(taskText).toContain(`<untrusted source="diff-since-last-deploy">\ndiff --git a/src/pricing.js b/src/pricing.js`);

    // The PR holds the one-line fix, and nothing else: no reproduction test is added for a build.
    const branch = state.pullRequest!.branch;
    const diff = execFileSync('git', ['-C', h.repositoryPath, 'diff', `${broken.revision}..${branch}`], { encoding: 'utf8' });
    expect(diff.split('\n').filter((line) => /^[-+][^-+]/.test(line))).toEqual(["-const { shippingCents } = require('./shipping-rules');", "+const { shippingCents } = require('./shipping');"]);
    const pr = (await h.pool.query<{ body: string; title: string }>('SELECT title, body FROM local_pull_requests WHERE branch = $1', [branch])).rows[0]!;
    expect(pr.title).toMatch(/^fix: .*shipping.* \[P2\]$/);
    expect(pr.body).toContain(`the build of \`${broken.revision.slice(0, 12)}\` failed when it was deployed (previous deploy \`${broken.previousRevision.slice(0, 12)}\`)`);
    expect(pr.body).toContain("The build failed at `" + broken.revision.slice(0, 12) + "` with:\n\n```\nError: Cannot find module './shipping-rules'");
    expect(pr.body).toContain('After the fix it passes.');
    expect(pr.body).toMatch(/Test suite: No new failures \(\d+ passing, \d+ failing as before\)\./);
    expect(pr.body).toContain('| build, after the fix | `node scripts/build.js` | 0 |');

    // Neither the dedup nor the PR link touched a monitor: there is none for a build.
    const kinds = (await h.ledger.listEvents(outcome.incidentId)).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['reproduced', 'fix_attempt', 'pr_opened']));
    expect(kinds).not.toContain('monitor_annotated');
    expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.monitorId)).toBe('deploy:checkout-service');
  });

  it('closes not reproduced when the build at the revision does not fail with the log\'s error', async () => {
    // The log blames a syntax error the revision does not have: the build fails, but for another reason.
    const log = "src/coupons.js:4\n  const COUPONS = {\n                  ^\nSyntaxError: Unexpected token '{'";
    const alert = buildAlert({ build: { status: 'failure', log, logUrl: null } });
    const asked = model.stepsAsked().length;
    const handle = await start({ ...alert, alertCycleKey: `${alert.alertCycleKey}-other-error` });
    const outcome = (await handle.result()) as IncidentOutcome;

    expect(outcome.status).toBe('not_reproduced');
    expect(outcome.outcome).toContain("The build fails, but not with the build log's error");
    expect(model.stepsAsked().length).toBe(asked);
    const [notice] = h.deliveredNotifications(outcome.incidentId);
    expect(notice).toMatchObject({ kind: 'could_not_fix' });
    expect(notice!.text).toContain(`The build did not fail with the deploy's error at ${broken.revision.slice(0, 12)}`);
  });
});
