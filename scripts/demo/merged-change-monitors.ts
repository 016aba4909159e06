import type { Client } from '@temporalio/client';
import { incidentStateQuery, incidentWorkflowId, monitorGenerationStateQuery, type CreatedMonitorView, type MonitorGenerationState } from '../../contracts';
import type { IncidentState } from '../../domain/incident';
import { generateMonitors } from '../../use-cases/generate-monitors.use-case';
import type { RunningSteward } from '../../workers/start-steward';
import type { Say } from './follow-deploy-watch';

/**
 * The deploy scenario's monitors: the release arrives as a merged change before it is deployed, and
 * its monitor generation runs as `steward monitors generate` starts it (the same use case). The demo
 * prints what came of each proposal; after the deploy it waits for the local monitor evaluator to
 * fire the generated log alert, and follows the incident that alert starts.
 *
 * The change is given as a merged commit, not a merged local PR: a local PR counts as merged once
 * the default branch holds its head, and the demo repository's `main` is what the alert scenario
 * deploys (infra/demo-fixtures.ts ensureDemoRepository) and what the build-failure and deploy
 * scenarios branch from (commitOnBranch). Moving it would change what those scenarios run, and
 * what a re-run of this one starts production at.
 */

const SERVICE = 'checkout-service';
const GENERATION_DEADLINE_MS = 3 * 60_000;
const POLL_MS = 500;
const START_TIMEOUT_MS = 30_000;

const short = (text: string) => text.slice(0, 12);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface MergedChange {
  revision: string;
  branch: string;
  message: string;
}

/** Starts the generation of the merged change's monitors, waits for it, and prints what it made of every proposal. */
export async function generateMonitorsForMergedChange(steward: RunningSteward, client: Client, merged: MergedChange, say: Say): Promise<MonitorGenerationState> {
  const service = steward.config.services[SERVICE]!;
  say(
    `the release arrives as a merged change: ${short(merged.revision)} (${merged.branch}: "${merged.message}"). It is given to monitor generation as a merged commit, not a merged local PR: ` +
      "a local PR is merged once main holds its head, and main of the demo repository is what the alert scenario deploys and the other scenarios branch from, so the demo leaves it where it is",
  );
  say(`the local code host sends no webhook: this is what \`npx steward monitors generate ${SERVICE} --commit ${merged.revision}\` does`);
  const outcome = await generateMonitors(
    client.workflow,
    {
      repository: service.githubRepository ?? SERVICE,
      services: [SERVICE],
      change: { kind: 'commit', sha: merged.revision },
      trigger: 'cli',
      policy: steward.config.monitorGeneration,
      taskQueue: steward.config.temporal.taskQueue,
    },
    { timeoutMs: START_TIMEOUT_MS },
  );
  say(outcome.processed ? `${outcome.generationId} ran in an earlier run: its monitors stand, and nothing is generated twice` : `${outcome.joined ? 'joined' : 'started'} monitor generation ${outcome.generationId}`);

  const state = await followGeneration(client, outcome.generationId, say);
  describeGeneration(state, say);
  const comments = await steward.inspect.localComments({ service: SERVICE, location: service.repository, defaultBranch: service.defaultBranch }, { kind: 'commit', sha: merged.revision });
  const comment = comments.find((c) => c.key === `monitors:${outcome.generationId}`);
  if (comment) {
    say(`the generation's comment on commit ${short(merged.revision)} (${comment.url}):`);
    for (const line of comment.body.split('\n')) say(`  | ${line}`);
  } else say(`the generation left no comment on commit ${short(merged.revision)}`);
  if (!outcome.processed) say("the team's one message about it went to the notifier: the notify| lines above (the console stands in for Slack)");
  return state;
}

/** The generation's status as it moves, by its state query, until the run returns its state. */
async function followGeneration(client: Client, generationId: string, say: Say): Promise<MonitorGenerationState> {
  const handle = client.workflow.getHandle(generationId);
  let settled: { state: MonitorGenerationState } | { failure: Error } | null = null;
  const result = (handle.result() as Promise<MonitorGenerationState>).then(
    (state) => (settled = { state }),
    (failure: Error) => (settled = { failure }),
  );
  const deadline = Date.now() + GENERATION_DEADLINE_MS;
  let status: string | null = null;
  while (!settled && Date.now() < deadline) {
    const state = await handle.query(monitorGenerationStateQuery).catch(() => null);
    if (state && state.status !== status) {
      status = state.status;
      say(`monitor generation: ${status.replace(/_/g, ' ')}`);
    }
    await Promise.race([result, sleep(POLL_MS)]);
  }
  const ending = settled as { state: MonitorGenerationState } | { failure: Error } | null;
  if (!ending) throw new Error(`monitor generation ${generationId} did not finish within ${GENERATION_DEADLINE_MS / 1000} s`);
  if ('failure' in ending) {
    const cause = ending.failure.cause;
    throw new Error(`monitor generation ${generationId} failed: ${ending.failure.message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
  }
  return ending.state;
}

function describeGeneration(state: MonitorGenerationState, say: Say): void {
  say(`monitors from the merged change: ${state.filesByClass ?? 'no files read'}; ${state.newRuntimeLines} new runtime lines; ${state.proposed} proposed by the generation agent (its answers replayed from demo/deploy.transcript.json, scripted)`);
  for (const r of state.revised) say(`  validation refused "${r.name}": ${r.errors.join('; ')}; asked again with the errors (revision ${r.attempt})`);
  for (const m of state.created) {
    say(`  created monitor ${m.monitorId} "${m.name}" (${m.type}; ${m.evaluatedLocally ? 'evaluated locally every minute' : 'not evaluated locally: kept in the monitor store, labelled so'}): ${m.query}`);
    say(`    critical ${m.critical}${m.warning === null ? '' : `, warning ${m.warning}`}, set from ${m.thresholdSource}: ${m.thresholdExplanation}`);
  }
  for (const d of state.dropped) say(`  dropped "${d.name}" at ${d.stage}: ${d.reason}`);
  for (const r of state.retired) say(`  retired monitor ${r.monitorId} "${r.name}": ${r.reason}`);
  say(`created monitor ids: ${state.created.map((m) => m.monitorId).join(', ') || 'none'}. ${state.outcome ?? ''}`.trim());
}

/** A failure with the causes under it (a workflow's failure wraps the activity's, which wraps the error that says why). */
function causeChain(error: Error): string {
  const messages: string[] = [];
  for (let at: unknown = error; at instanceof Error && messages.length < 5; at = at.cause) messages.push(at.message);
  return messages.join(': ');
}

/** The generated monitor the local evaluator can fire on the regression: a log alert it counts. */
export function locallyEvaluatedLogAlert(state: MonitorGenerationState): CreatedMonitorView | null {
  return state.created.find((m) => m.type === 'log alert' && m.evaluatedLocally) ?? null;
}

export type MonitorAlertOutcome =
  | { fired: false; monitorId: string; reason: string }
  | {
      fired: true;
      monitorId: string;
      alertCycleKey: string;
      incidentId: string;
      /** The incident's last state seen; null when it never answered its query. */
      state: IncidentState | null;
      /** Why the incident's workflow failed, when it did. */
      failure: string | null;
      /** The deadline passed before the incident stood down, failed or opened its PR. */
      timedOut: boolean;
    };

export interface MonitorAlertWatch {
  /** The incident the monitor's alert started, once the evaluator has fired it. */
  incidentId(): string | null;
  outcome: Promise<MonitorAlertOutcome>;
  /** Stops following at the next poll; the outcome then says what was seen. */
  stop(): void;
}

/** Where a followed incident stops being this watch's business: it stood down, opened its PR or closed. */
const FOLLOWED_UNTIL = new Set<IncidentState['status']>(['duplicate', 'pr_opened', 'pr_merged', 'pr_closed', 'noise', 'not_reproduced', 'could_not_fix', 'rejected', 'approval_timed_out', 'budget_exhausted']);

/**
 * Waits, in the background, for the local monitor evaluator to fire the monitor (its Triggered
 * transition, posted to POST /webhooks/datadog), then follows the incident that alert cycle starts
 * (`incident-<monitor>-<cycle>`) until it stands down, fails or opens its PR. Each step is printed
 * as it is seen; both waits have deadlines.
 */
export function followMonitorAlert(steward: RunningSteward, client: Client, monitor: CreatedMonitorView, say: Say, options: { fireDeadlineMs: number; incidentDeadlineMs: number }): MonitorAlertWatch {
  let stopped = false;
  let incidentId: string | null = null;
  const outcome = (async (): Promise<MonitorAlertOutcome> => {
    const fireDeadline = Date.now() + options.fireDeadlineMs;
    let notedPending = false;
    let fired: { alertCycleKey: string } | null = null;
    while (!fired && !stopped && Date.now() < fireDeadline) {
      const triggered = (await steward.inspect.localMonitorTransitions(monitor.monitorId)).find((t) => t.transition === 'Triggered');
      if (triggered?.deliveredAt) {
        fired = { alertCycleKey: triggered.alertCycleKey };
        const verdict = triggered.payload.message?.split('\n').find((line) => / logs? matching /.test(line)) ?? '';
        say(`the local monitor evaluator fired monitor ${monitor.monitorId} ("${monitor.name}") at ${triggered.tick.toISOString()}, alert cycle ${triggered.alertCycleKey}: ${verdict}`);
        say(`  posted to POST /webhooks/datadog as Datadog would (answered ${triggered.lastStatus}), beside the deploy watch's own detection`);
      } else if (triggered && !notedPending) {
        notedPending = true;
        say(`the local monitor evaluator recorded monitor ${monitor.monitorId}'s Triggered transition (cycle ${triggered.alertCycleKey}); posting it${triggered.lastError ? ` (last try: ${triggered.lastError})` : ''}`);
      }
      if (!fired) await sleep(2 * POLL_MS);
    }
    if (!fired) return { fired: false, monitorId: monitor.monitorId, reason: stopped ? 'the demo stopped waiting' : `the evaluator did not fire it within ${options.fireDeadlineMs / 1000} s of the deploy` };

    incidentId = incidentWorkflowId(monitor.monitorId, fired.alertCycleKey);
    const handle = client.workflow.getHandle(incidentId);
    let failure: string | null = null;
    let finished = false;
    void handle.result().then(
      () => (finished = true),
      (error: Error) => {
        finished = true;
        failure = causeChain(error);
      },
    );
    const incidentDeadline = Date.now() + options.incidentDeadlineMs;
    let state: IncidentState | null = null;
    let status: string | null = null;
    while (!stopped && Date.now() < incidentDeadline) {
      state = await handle.query(incidentStateQuery).catch(() => state);
      if (state && state.status !== status) {
        status = state.status;
        say(`the monitor's incident ${incidentId}: ${status.replace(/_/g, ' ')}`);
      }
      if (finished || (state && FOLLOWED_UNTIL.has(state.status))) break;
      await sleep(POLL_MS);
    }
    // A run that ended between the last query and the check: its final state, as the query answers for a closed run.
    if (finished) state = await handle.query(incidentStateQuery).catch(() => state);
    const ended = finished || (state !== null && FOLLOWED_UNTIL.has(state.status));
    return { fired: true, monitorId: monitor.monitorId, alertCycleKey: fired.alertCycleKey, incidentId, state, failure, timedOut: !ended && !stopped };
  })();
  return {
    incidentId: () => incidentId,
    outcome,
    stop: () => void (stopped = true),
  };
}

/**
 * Once the fix's PR is there: what came of the monitor's alert, and how many PRs the one error got.
 * Cross-source dedup holds an error to one incident: the second to take it up stands down as a
 * duplicate of the first (`state.duplicateOf`). True when the alert fired, its incident ended as
 * one of the two sides of that, and exactly one PR was opened between them.
 */
export async function reportMonitorAlert(steward: RunningSteward, watch: MonitorAlertWatch, incidents: { watchIncidentId: string; ownerId: string }, say: Say): Promise<boolean> {
  const alert = await watch.outcome;
  if (!alert.fired) {
    say(`the generated monitor ${alert.monitorId} did not fire: ${alert.reason}`);
    return false;
  }
  say(`the generated monitor ${alert.monitorId} fired in alert cycle ${alert.alertCycleKey}, which started incident ${alert.incidentId}`);
  let coherent = false;
  if (alert.failure !== null) {
    say(`the monitor's incident ${alert.incidentId} failed${alert.state ? ` while ${alert.state.status.replace(/_/g, ' ')}` : ''}: ${alert.failure}`);
  } else if (alert.state?.status === 'duplicate') {
    say(`the monitor's incident ${alert.incidentId} stood down as a duplicate of ${alert.state.duplicateOf}`);
    coherent = alert.state.duplicateOf === incidents.ownerId;
    if (!coherent) say(`  but the PR came from ${incidents.ownerId}`);
  } else if (alert.incidentId === incidents.ownerId) {
    say(`the monitor's incident ${alert.incidentId} took up the error first and took it to the PR; the watch's incident ${incidents.watchIncidentId} stood down as a duplicate of it`);
    coherent = true;
  } else if (alert.timedOut) {
    say(`the monitor's incident ${alert.incidentId} had neither stood down nor opened a PR by the deadline${alert.state ? ` (${alert.state.status.replace(/_/g, ' ')})` : ''}`);
  } else {
    say(`the monitor's incident ${alert.incidentId} ended ${alert.state?.status ?? 'unseen'}: ${alert.state?.outcome ?? ''}`);
  }
  const prs = await steward.inspect.localPullRequestsOf([...new Set([incidents.watchIncidentId, incidents.ownerId, alert.incidentId])]);
  say(`pull requests for the regression: ${prs.length}${prs.length > 0 ? ` (${prs.map((pr) => `#${pr.number} from ${pr.incidentId}`).join(', ')})` : ''}`);
  return coherent && prs.length === 1;
}
