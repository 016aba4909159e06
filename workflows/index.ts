/**
 * The workflow bundle's entry: every workflow Steward registers, each in its own folder
 * (workflows/<name>/<name>.workflow.ts, held by layout.test.ts).
 */
export { incidentWorkflow } from './incident/incident.workflow';
export { deployWatchWorkflow } from './deploy-watch/deploy-watch.workflow';
export { monitorGenerationWorkflow } from './monitor-generation/monitor-generation.workflow';
export { snapshotRefreshWorkflow } from './snapshot-refresh/snapshot-refresh.workflow';
export { localMonitorsWorkflow } from './local-monitors/local-monitors.workflow';
export { nightlyQaWorkflow } from './nightly-qa/nightly-qa.workflow';
export { qaMissionWorkflow } from './qa-mission/qa-mission.workflow';
