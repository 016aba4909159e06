export { incidentWorkflow } from './incident.workflow';
