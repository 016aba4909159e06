export { incidentWorkflow } from './incident.workflow';
export { snapshotRefreshWorkflow } from './snapshot-refresh.workflow';
