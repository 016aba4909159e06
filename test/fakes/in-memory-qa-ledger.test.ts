import { describeQaLedgerContract } from '../../adapters/qa-ledger.contract';
import { InMemoryQaLedger } from './in-memory-qa-ledger';

describe('InMemoryQaLedger', () => {
  const store = new InMemoryQaLedger();
  describeQaLedgerContract('in memory', () => store);
});
