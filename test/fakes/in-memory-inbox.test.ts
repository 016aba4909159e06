import { describeInboxContract } from '../../adapters/inbox.contract';
import { InMemoryInbox } from './in-memory-inbox';

describe('InMemoryInbox', () => {
  let store = new InMemoryInbox();
  describeInboxContract('in memory', {
    store: () => store,
    reset: async () => {
      store = new InMemoryInbox();
    },
  });
});
