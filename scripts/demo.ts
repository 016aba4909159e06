import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { incidentStateQuery } from '../contracts';
import { decideOnFix } from '../use-cases/decide-on-fix.use-case';
import { ConfigError, loadConfig } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import type { IncidentState } from '../domain/incident';
import { BUILD_FAILURE_TRANSCRIPT_PATH, DEPLOY_TRANSCRIPT_PATH, demoAlertPayload, NIGHTLY_QA_TRANSCRIPT_PATH } from '../infra/demo-fixtures';
import { startSteward } from '../workers/start-steward';
import { installTemporalRuntime } from '../workers/temporal-runtime';
import type { IncidentOutcome } from '../workflows/incident/incident.workflow';
import { DEPLOY_SCENARIO_ENV, runBuildFailureScenario, runDeployScenario, type ScenarioStart } from './demo/deploy-scenario';
import { reportMonitorAlert } from './demo/merged-change-monitors';
import { runNightlyQaScenario } from './demo/nightly-qa-scenario';

/**
 * `npm run demo`: the whole loop on the embedded defaults. Starts the stack, posts the bundled
 * alert to the webhook as Datadog would, and follows the incident to its PR.
 */
const once = process.argv.includes('--once') || process.env.CI === 'true';
/**
 * `--scenario build-failure`: a deploy whose build the latest commit broke, reported to the deploy
 * webhook, instead of the coupon alert. `--scenario deploy`: a deploy that brings a runtime
 * regression into a running "production" service, caught by the deploy watch (scripts/demo/).
 * `--scenario nightly-qa`: two nights of QA on the demo service, the first proving a bug no alert
 * covers and taking it to a PR, the second running other missions (scripts/demo/nightly-qa-scenario.ts).
 */
const scenarioFlag = process.argv.indexOf('--scenario');
const scenario = scenarioFlag >= 0 ? process.argv[scenarioFlag + 1] : 'alert';
const DEADLINE_MS = 10 * 60_000;
const say = (line: string): void => console.log(`demo  | ${line}`);

/** A database URL fit to print: its password, when it has one, is never written to a terminal or a CI log. */
function withoutPassword(url: string | null): string | null {
  if (url === null) return null;
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return `${parsed.toString()} (its password as configured)`;
  } catch {
    return '(DATABASE_URL as configured)';
  }
}

function describeProgress(state: IncidentState, seen: Set<string>): string[] {
  const lines: string[] = [];
  const note = (key: string, line: string): void => {
    if (!seen.has(key)) {
      seen.add(key);
      lines.push(line);
    }
  };
  if (state.triage) {
    const t = state.triage;
    note('triage', `triage: ${t.verdict}, ${t.severity}, confidence ${t.confidence}. ${t.reasoning}`);
  }
  if (state.reproduction) note('repro', `reproduced with ${state.reproduction.testPath ?? `the build, \`${state.reproduction.command}\``}: ${state.reproduction.match}`);
  for (const a of state.attempts) {
    note(`attempt:${a.attempt}`, `fix attempt ${a.attempt}: ${a.verified ? `verified (${a.diffStat})` : `rejected: ${a.failureReason}`}`);
  }
  if (state.pullRequest) note('pr', `pull request #${state.pullRequest.number}: ${state.pullRequest.url}`);
  note(`status:${state.status}`, `step: ${state.status.replace(/_/g, ' ')}`);
  return lines;
}

interface FollowedIncident {
  handle: WorkflowHandle;
  ending: { outcome: IncidentOutcome } | { failure: Error } | null;
  lastState: IncidentState | null;
  /** The progress lines printed already. */
  seen: Set<string>;
}

// The incident follows its PR until it is merged, so the demo stops following once the PR is there.
const prThereIn = (state: IncidentState | null): boolean => state?.status === 'pr_opened' && state.pullRequest !== null;

/** Follows an incident by its state query, printing each step, until it ends, its PR is there or the deadline passes. */
async function followIncident(client: Client, incidentId: string, options: { approveAtGate: boolean; deadline: number }): Promise<FollowedIncident> {
  const handle = client.workflow.getHandle(incidentId);
  const seen = new Set<string>();
  let settled: FollowedIncident['ending'] = null;
  const result = (handle.result() as Promise<IncidentOutcome>).then(
    (outcome) => (settled = { outcome }),
    (failure: Error) => (settled = { failure }),
  );
  let lastState: IncidentState | null = null;
  let approved = false;
  while (!settled && !prThereIn(lastState) && Date.now() < options.deadline) {
    lastState = await handle.query(incidentStateQuery).catch(() => lastState);
    if (lastState) for (const line of describeProgress(lastState, seen)) say(line);
    // The regression's severity puts its fix behind the approval gate: the demo answers as the on-call would in Slack.
    if (options.approveAtGate && lastState?.status === 'awaiting_approval' && !approved) {
      approved = true;
      say(`the fix waits at the approval gate (${lastState.severity}); approving it as the on-call would with Slack's button or \`npx steward approve ${incidentId}\``);
      await decideOnFix(client.workflow, { incidentId, decision: 'approve', by: 'demo on-call', reason: 'approved by the demo' }, { timeoutMs: 30_000 });
    }
    if (!prThereIn(lastState)) await Promise.race([result, new Promise((r) => setTimeout(r, 300))]);
  }
  return { handle, ending: settled as FollowedIncident['ending'], lastState, seen };
}

/** The incident an ended incident stood down for, as its final state names it; null when it did not stand down as a duplicate. */
async function duplicateOwnerOf(followed: FollowedIncident): Promise<string | null> {
  if (!followed.ending || !('outcome' in followed.ending) || followed.ending.outcome.status !== 'duplicate') return null;
  const state = await followed.handle.query(incidentStateQuery).catch(() => followed.lastState);
  return state?.duplicateOf ?? null;
}

async function main(): Promise<void> {
  // The demo prints its own account of each step; the SDK's info lines (worker states) would bury it.
  installTemporalRuntime({ level: 'WARN' });
  if (scenario !== 'alert' && scenario !== 'build-failure' && scenario !== 'deploy' && scenario !== 'nightly-qa') throw new ConfigError(`--scenario is alert, build-failure, deploy or nightly-qa, not ${JSON.stringify(scenario)}`);
  // Each deploy scenario has its own recorded answers: their step names are the coupon fix's. The
  // deploy scenario polls every few seconds, so that its flag comes within minutes of wall time.
  // The nightly QA scenario's transcript holds both nights' missions and the finding's fix.
  const config = loadConfig(
    scenario === 'nightly-qa'
      ? { ...process.env, STEWARD_MODEL_TRANSCRIPT: process.env.STEWARD_MODEL_TRANSCRIPT ?? NIGHTLY_QA_TRANSCRIPT_PATH }
      : scenario === 'build-failure'
      ? { ...process.env, STEWARD_MODEL_TRANSCRIPT: process.env.STEWARD_MODEL_TRANSCRIPT ?? BUILD_FAILURE_TRANSCRIPT_PATH }
      : scenario === 'deploy'
        ? { ...DEPLOY_SCENARIO_ENV, ...process.env, STEWARD_MODEL_TRANSCRIPT: process.env.STEWARD_MODEL_TRANSCRIPT ?? DEPLOY_TRANSCRIPT_PATH }
        : process.env,
  );
  say(`starting Steward on ${config.temporal.address ? 'the configured Temporal' : 'the embedded defaults'} (data in ${config.dataDir})`);
  const steward = await startSteward(config, { withApi: true, log: (line) => console.log(`stack | ${line}`), print: (text) => console.log(text.replace(/^/gm, 'notify| ')) });
  for (const line of steward.stack.started) say(`started ${line}`);
  let started: ScenarioStart | null = null;
  // What the scenario started, from the moment it did: a SIGTERM while the deploy watch runs must not leave production running.
  let stopScenario: (() => Promise<void>) | null = null;
  const stopAndExit = async (code: number): Promise<never> => {
    await stopScenario?.();
    await steward.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAndExit(0));
  process.on('SIGTERM', () => void stopAndExit(143));

  if (!steward.demoRevision) {
    say('STEWARD_SERVICES_FILE is set, so the bundled demo service is not in use; nothing to demo.');
    return stopAndExit(1);
  }
  // A connection of its own, left open until the process exits: the result's long poll is still
  // waiting when the demo stops, and it must not be retried on a channel that stop() closed.
  const client = new Client({
    connection: await Connection.connect(temporalConnectionOptions(steward.stack.temporalAddress, steward.config.temporal.security)),
    namespace: config.temporal.namespace,
    dataConverter: steward.dataConverter,
  });
  if (scenario === 'nightly-qa') {
    const result = await runNightlyQaScenario(steward, client, say);
    // A scenario that did not prove its point says why and exits 1, browsing or not.
    if (once || !result.proven) return stopAndExit(result.proven ? 0 : 1);
    return say('the stack stays up so the nights can be browsed in the Web UI; Ctrl-C stops it.');
  }
  const payload = demoAlertPayload({ alertCycleKey: `demo-${Date.now()}`, deployedRevision: steward.demoRevision });
  let incidentId: string;
  if (scenario === 'build-failure' || scenario === 'deploy') {
    started = scenario === 'deploy' ? await runDeployScenario(steward, client, say, (stop) => (stopScenario = stop)) : await runBuildFailureScenario(steward, client, say);
    if (!started) return stopAndExit(1);
    stopScenario = started.stop;
    incidentId = started.incidentId;
  } else {
    say(`posting the demo alert for monitor ${payload.monitor_id} (cycle ${payload.alert_cycle_key}) to ${steward.api!.url}/webhooks/datadog`);
    const response = await fetch(`${steward.api!.url}/webhooks/datadog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${steward.webhookToken}` },
      body: JSON.stringify(payload),
    });
    const answer = (await response.json()) as { incidentId?: string; error?: string };
    say(`webhook answered ${response.status}: ${JSON.stringify(answer)}`);
    if (response.status !== 202 || !answer.incidentId) return stopAndExit(1);
    incidentId = answer.incidentId;
  }

  let followed = await followIncident(client, incidentId, { approveAtGate: started !== null, deadline: Date.now() + DEADLINE_MS });
  // The watch's incident stands down when the generated monitor's alert opened an incident for the same error first: the fix is that one's to make.
  const owner = started?.monitorAlert ? await duplicateOwnerOf(followed) : null;
  if (owner) {
    say(`the watch's incident ${incidentId} stood down as a duplicate of ${owner}: following ${owner}, which holds the error`);
    followed = await followIncident(client, owner, { approveAtGate: true, deadline: Date.now() + DEADLINE_MS });
  }
  const { handle, ending, lastState, seen } = followed;
  if (ending && 'failure' in ending) {
    const cause = ending.failure.cause;
    say(`the incident workflow failed: ${ending.failure.message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
    return stopAndExit(1);
  }
  if (!ending && !prThereIn(lastState)) {
    say('the incident did not reach a PR in time');
    return stopAndExit(1);
  }
  const outcome: IncidentOutcome = ending
    ? ending.outcome
    : { incidentId: handle.workflowId, status: 'pr_opened', outcome: lastState!.outcome ?? '', prUrl: lastState!.pullRequest!.url };
  const finalState = await handle.query(incidentStateQuery);
  for (const line of describeProgress(finalState, seen)) say(line);
  const done = outcome;
  const { runId } = await handle.describe();
  say(`outcome: ${done.status}. ${done.outcome}`);
  if (steward.stack.webUiUrl) say(`run in the Web UI: ${steward.stack.webUiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(done.incidentId)}/${runId}/history`);

  let prThere = false;
  if (done.status === 'pr_opened' && finalState.pullRequest) {
    const record = await steward.inspect.localPullRequest(finalState.pullRequest.number);
    prThere = record !== null;
    const repository = config.services['checkout-service']!.repository;
    say(`the PR is local record #${finalState.pullRequest.number} (${finalState.pullRequest.url}), branch ${finalState.pullRequest.branch} in ${repository}`);
    say(`  see the change: git -C ${repository} diff main ${finalState.pullRequest.branch}`);
    say(`  see the record: DATABASE_URL=${withoutPassword(steward.config.databaseUrl)} npx steward pr show ${finalState.pullRequest.number}`);
    if (started && record) {
      say(`the PR: "${record.title}"${record.draft ? ' (draft)' : ''}, its diff:`);
      for (const line of record.diff.split('\n')) say(`  ${line}`);
    }
    if (started) {
      const { deployedAt, flaggedAt } = started.timings;
      say(`wall time from the deploy's report: ${flaggedAt ? `${((flaggedAt - deployedAt) / 1000).toFixed(0)} s to the flag, ` : ''}${((Date.now() - deployedAt) / 1000).toFixed(0)} s to the PR`);
    }
    // A deploy's regression or failed build has no monitor to link the fix on.
    if (started) {
      // The generated monitor's alert must have fired and come to one incident with the watch's: one error, one PR.
      if (started.monitorAlert) prThere = (await reportMonitorAlert(steward, started.monitorAlert, { watchIncidentId: incidentId, ownerId: handle.workflowId }, say)) && prThere;
      if (once) return stopAndExit(prThere ? 0 : 1);
      await started.stop();
      return say('the stack stays up so the run can be browsed in the Web UI; Ctrl-C stops it.');
    }
    const monitor = await steward.inspect.monitor(payload.monitor_id!);
    say(`monitor ${monitor.id}'s description now links the fix:`);
    for (const line of monitor.message.split('\n').filter((l) => l.startsWith('- Steward fix'))) say(`  ${line}`);
  } else if (done.status === 'duplicate' && started) {
    say(`incident ${done.incidentId} stood down as a duplicate of ${finalState.duplicateOf}, which is not the incident the demo followed here`);
  } else if (done.status === 'duplicate') {
    const monitor = await steward.inspect.monitor(payload.monitor_id!);
    prThere = monitor.message.includes('steward:begin');
    say(`stood down as a duplicate of ${finalState.duplicateOf}; the monitor's description already links its PR:`);
    for (const line of monitor.message.split('\n').filter((l) => l.startsWith('- Steward fix'))) say(`  ${line}`);
  }
  if (once) return stopAndExit(prThere ? 0 : 1);
  say('the stack stays up so the run can be browsed in the Web UI; Ctrl-C stops it.');
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `demo: ${error.message}` : error);
  process.exit(1);
});
