import { describeIncidentClaimsContract } from '../../adapters/incident-claims.contract';
import { InMemoryIncidentClaims } from './in-memory-incident-claims';

describe('InMemoryIncidentClaims', () => {
  const store = new InMemoryIncidentClaims();
  describeIncidentClaimsContract('in memory', () => store);
});
