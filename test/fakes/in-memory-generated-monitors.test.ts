import { describeGeneratedMonitorsContract } from '../../adapters/generated-monitors.contract';
import { InMemoryGeneratedMonitors } from './in-memory-generated-monitors';

describe('InMemoryGeneratedMonitors', () => {
  let store: InMemoryGeneratedMonitors;
  beforeEach(() => {
    store = new InMemoryGeneratedMonitors();
  });

  describeGeneratedMonitorsContract('in memory', () => store);

  it('keeps each drop once, in the order recorded, for a test to read', async () => {
    const drop = { generationId: 'g', repository: 'acme/x', name: 'n', stage: 'cap' as const, reason: 'over the per-change cap of 5', proposal: null };
    await store.recordDropped([drop, drop, { ...drop, name: 'm' }]);
    expect(store.drops.map((d) => d.name)).toEqual(['n', 'm']);
  });
});
