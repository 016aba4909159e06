import { decisionCommand } from './decision';

/** `steward approve <incidentId> [--by NAME] [--reason TEXT]` */
export const approveCommand = decisionCommand('approve');
