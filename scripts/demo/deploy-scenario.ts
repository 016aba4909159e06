import * as path from 'node:path';
import type { Client } from '@temporalio/client';
import { seedBaselineLogs, GENERATED_ATTRIBUTE } from '../../infra/demo-baseline-logs';
import { BROKEN_BUILD_LOG, commitBrokenBuild, commitRegression, REGRESSION_BRANCH, REGRESSION_COMMIT_MESSAGE } from '../../infra/demo-fixtures';
import { startProductionService, type ProductionService } from '../../infra/demo-production-service';
import { startTraffic, type Traffic } from '../../infra/demo-traffic';
import type { RunningSteward } from '../../workers/start-steward';
import { followDeployWatch, postDeploy, type Say } from './follow-deploy-watch';
import { followMonitorAlert, generateMonitorsForMergedChange, locallyEvaluatedLogAlert, type MonitorAlertWatch } from './merged-change-monitors';

/**
 * `npm run demo -- --scenario deploy`: a week of (generated) baseline logs, the checkout-service
 * running as "production" with its errors sent through OpenTelemetry, traffic at it, then a
 * revision that breaks bulk orders: it arrives as a merged change, whose generated monitors are
 * shown (scripts/demo/merged-change-monitors.ts), and is deployed and reported to the deploy
 * webhook; the watch flags the new error, its triage cites the line, and it fixes forward through a
 * child incident, which scripts/demo.ts follows to its PR like any other. Beside it, the local
 * monitor evaluator fires the generated log alert, and the demo follows the incident that starts.
 *
 * `--scenario build-failure` reports a deploy whose build failed to the same webhook, and the
 * watch turns it into its child incident.
 */

const SERVICE = 'checkout-service';
const REQUESTS_PER_SECOND = 3;
/** Production runs at the old revision this long before the deploy: traffic with no errors. */
const STEADY_STATE_MS = 8_000;
const WATCH_DEADLINE_MS = 8 * 60_000;
/** The generated log alert counts over 5 minutes: at the regression's rate it passes its default threshold within three or four. */
const MONITOR_FIRE_DEADLINE_MS = 6 * 60_000;
const MONITOR_INCIDENT_DEADLINE_MS = 4 * 60_000;

/** The deploy scenario's environment, set before loadConfig: a poll every 5 s so the flag comes in about a minute or two. */
export const DEPLOY_SCENARIO_ENV = { STEWARD_REGRESSION_POLL: '5s', STEWARD_REGRESSION_HORIZON: '10m', STEWARD_REGRESSION_INGESTION_LAG: '2s' } as const;

export interface ScenarioStart {
  incidentId: string;
  /** Wall clock of the deploy's report, of the first flag seen, of the incident seen. */
  timings: { deployedAt: number; flaggedAt: number | null; incidentSeenAt: number | null };
  /** The generated log alert's firing and the incident it starts, followed in the background; null without one. */
  monitorAlert: MonitorAlertWatch | null;
  /** Stops what the scenario started (traffic, the production service, following the monitor). */
  stop(): Promise<void>;
}

/**
 * `registerStop` is given the scenario's stop as soon as production runs, before the scenario
 * returns: a demo stopped while the watch runs must stop production too.
 */
export async function runDeployScenario(steward: RunningSteward, client: Client, say: Say, registerStop: (stop: () => Promise<void>) => void = () => undefined): Promise<ScenarioStart | null> {
  const repository = steward.config.services[SERVICE]!.repository;
  const apiUrl = steward.api!.url;

  const now = new Date();
  const seeded = await seedBaselineLogs({ apiUrl, token: steward.webhookToken, service: SERVICE, dataDir: steward.config.dataDir, now });
  say(
    `seeded ${seeded.logs} GENERATED baseline error logs for ${SERVICE} (${seeded.from} to ${seeded.to}${seeded.alreadySeeded ? ', after the week an earlier run seeded' : ', a week'}) through POST /v1/logs; ` +
      `each is labelled ${GENERATED_ATTRIBUTE}=true: the demo has no real week of production behind it`,
  );

  const production = {
    repositoryPath: repository,
    checkoutPath: path.join(steward.config.dataDir, 'production', SERVICE),
    service: SERVICE,
    otlpLogsUrl: `${apiUrl}/v1/logs`,
    token: steward.webhookToken,
    // The service prints each error's whole stack; the demo shows its first line (the stack goes to Steward with the log record).
    log: (line: string) => void (/^\s+at /.test(line) || console.log(`prod  | ${line}`)),
  };
  const previousRevision = steward.demoRevision!;
  let service: ProductionService = await startProductionService(production, previousRevision);
  say(`production: ${SERVICE} at ${previousRevision.slice(0, 12)} on ${service.url} (pid ${service.pid}), its error logs sent by the OpenTelemetry SDK to POST /v1/logs`);
  const traffic: Traffic = startTraffic({ url: service.url, perSecond: REQUESTS_PER_SECOND });
  say(`traffic: ${REQUESTS_PER_SECOND} checkouts a second, every order with a coupon, one in twenty a bulk order`);
  let stopping: Promise<void> | null = null;
  let monitorAlert: MonitorAlertWatch | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      monitorAlert?.stop();
      const stats = await traffic.stop();
      await service.stop();
      say(`traffic stopped: ${stats.sent} checkouts, ${stats.ok} priced, ${stats.failed} failed, ${stats.unanswered} unanswered`);
    })());
  registerStop(stop);
  try {
    await new Promise((r) => setTimeout(r, STEADY_STATE_MS));
    say(`before the deploy: ${JSON.stringify(traffic.stats())}`);

    const deploy = commitRegression(repository);
    const generated = await generateMonitorsForMergedChange(steward, client, { revision: deploy.revision, branch: REGRESSION_BRANCH, message: REGRESSION_COMMIT_MESSAGE }, say);
    const logAlert = locallyEvaluatedLogAlert(generated);
    if (!logAlert) say('no generated monitor is a log alert the local evaluator counts: nothing of the change will fire locally');
    say(`deploying ${deploy.revision.slice(0, 12)} (${REGRESSION_BRANCH}: "${REGRESSION_COMMIT_MESSAGE}") over ${deploy.previousRevision.slice(0, 12)}: the service restarts at the new revision`);
    await service.stop();
    service = await startProductionService(production, deploy.revision);
    traffic.retarget(service.url);
    say(`production: ${SERVICE} at ${deploy.revision.slice(0, 12)} on ${service.url} (pid ${service.pid})`);
    const deployedAt = Date.now();
    await postDeploy(apiUrl, steward.webhookToken, { service: SERVICE, revision: deploy.revision, previousRevision: deploy.previousRevision, environment: 'production', deployedAt: new Date(deployedAt).toISOString() }, say);
    if (logAlert) {
      say(`waiting, beside the watch, for the local evaluator to fire monitor ${logAlert.monitorId} (critical > ${logAlert.critical}, evaluated every minute)`);
      monitorAlert = followMonitorAlert(steward, client, logAlert, say, { fireDeadlineMs: MONITOR_FIRE_DEADLINE_MS, incidentDeadlineMs: MONITOR_INCIDENT_DEADLINE_MS });
    }

    const watched = await followDeployWatch(client, { service: SERVICE, revision: deploy.revision }, say, { deadlineMs: WATCH_DEADLINE_MS });
    if (watched.flaggedAt) say(`deploy to flag: ${((watched.flaggedAt - deployedAt) / 1000).toFixed(0)} s of wall time`);
    if (!watched.state.incidentId) {
      say(`the watch ended ${watched.state.status} (${watched.state.verdict}) without an incident`);
      await stop();
      return null;
    }
    return { incidentId: watched.state.incidentId, timings: { deployedAt, flaggedAt: watched.flaggedAt, incidentSeenAt: watched.incidentSeenAt }, monitorAlert, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The broken build reported to the deploy webhook; the watch starts the incident that fixes it. */
export async function runBuildFailureScenario(steward: RunningSteward, client: Client, say: Say): Promise<ScenarioStart | null> {
  const repository = steward.config.services[SERVICE]!.repository;
  const broken = commitBrokenBuild(repository);
  say(`deployed ${broken.revision.slice(0, 12)} (branch release/1.5.0, after ${broken.previousRevision.slice(0, 12)}): its build failed; reporting it to the deploy webhook with the build log`);
  const deployedAt = Date.now();
  await postDeploy(
    steward.api!.url,
    steward.webhookToken,
    { service: SERVICE, revision: broken.revision, previousRevision: broken.previousRevision, environment: 'production', deployedAt: new Date(deployedAt).toISOString(), build: { status: 'failure', log: BROKEN_BUILD_LOG } },
    say,
  );
  const watched = await followDeployWatch(client, { service: SERVICE, revision: broken.revision }, say, { deadlineMs: 60_000 });
  if (!watched.state.incidentId) {
    say(`the watch ended ${watched.state.status} (${watched.state.verdict}) without an incident`);
    return null;
  }
  return { incidentId: watched.state.incidentId, timings: { deployedAt, flaggedAt: null, incidentSeenAt: watched.incidentSeenAt }, monitorAlert: null, stop: async () => undefined };
}
