import { runNightlyQaNow, type NightlyQaScheduleTrigger } from './nightly-qa.use-case';

describe('runNightlyQaNow', () => {
  it('reports that no night started when the trigger adds none (a night still running, overlap SKIP), naming the running one', async () => {
    const triggered: string[] = [];
    const schedules: NightlyQaScheduleTrigger = {
      describe: async () => ({ paused: false, recentWorkflowIds: ['night-1'] }),
      trigger: async (id) => {
        triggered.push(id);
      },
    };
    expect(await runNightlyQaNow(schedules, 'checkout-service', { waitMs: 50, pollMs: 10 })).toEqual({ outcome: 'not-started', scheduleId: 'steward-nightly-qa@checkout-service', running: 'night-1' });
    expect(triggered).toEqual(['steward-nightly-qa@checkout-service']);
  });

  it('waits for the schedule to name the new night, and says when the schedule itself is paused', async () => {
    let recent = ['night-1'];
    const schedules: NightlyQaScheduleTrigger = {
      describe: async () => ({ paused: true, recentWorkflowIds: recent }),
      trigger: async () => {
        setTimeout(() => (recent = [...recent, 'night-2']), 30);
      },
    };
    expect(await runNightlyQaNow(schedules, 'checkout-service', { waitMs: 2_000, pollMs: 10 })).toEqual({ outcome: 'started', scheduleId: 'steward-nightly-qa@checkout-service', workflowId: 'night-2', paused: true });
  });
});
