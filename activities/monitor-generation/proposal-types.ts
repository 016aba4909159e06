import type { MonitorProposal } from '../../domain/monitor-generation/proposal';

/** A proposal with the service it watches settled (the repository's only one when the model named none). */
export type ServiceMonitorProposal = MonitorProposal & { service: string };
