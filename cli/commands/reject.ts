import { decisionCommand } from './decision';

/** `steward reject <incidentId> --reason TEXT [--by NAME]` */
export const rejectCommand = decisionCommand('reject');
