import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { OutboundBreakers } from './circuit-breakers';

describe('OutboundBreakers', () => {
  class FakeSlack {
    calls = 0;
    constructor(private readonly fail: () => Error | null) {}
    async send(): Promise<string> {
      this.calls += 1;
      const error = this.fail();
      if (error) throw error;
      return 'sent';
    }
  }

  it('fails fast with a retryable CircuitOpen once a service failed the threshold in a row, and tells every listener', async () => {
    const changes: string[] = [];
    const breakers = new OutboundBreakers({ failureThreshold: 2, coolDownMs: 60_000 }, { onStateChange: (b, state) => changes.push(`${b.name}:${state}`) });
    const later: string[] = [];
    breakers.onStateChange((b, state) => later.push(`${b.name}:${state}`));
    const slack = new FakeSlack(() => new Error('socket hang up'));
    const guarded = breakers.guard('slack', slack);
    await expect(guarded.send()).rejects.toThrow('socket hang up');
    await expect(guarded.send()).rejects.toThrow('socket hang up');
    const refused = await guarded.send().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: ERROR_TYPES.circuitOpen, nonRetryable: false });
    expect(slack.calls).toBe(2);
    expect(breakers.states()).toEqual([{ name: 'slack', state: 'open', consecutiveFailures: 2, retryAt: expect.any(String) }]);
    expect(changes).toEqual(['slack:open']);
    expect(later).toEqual(['slack:open']);
  });

  it('does not count a permanent refusal (the service answered), and shares one breaker per service across adapters', async () => {
    const breakers = new OutboundBreakers({ failureThreshold: 2, coolDownMs: 60_000 });
    const refusing = breakers.guard('datadog', new FakeSlack(() => stewardFailure(ERROR_TYPES.datadogRequestRejected, 'bad query')));
    for (let i = 0; i < 3; i++) await expect(refusing.send()).rejects.toThrow('bad query');
    expect(breakers.states()).toEqual([{ name: 'datadog', state: 'closed', consecutiveFailures: 0, retryAt: null }]);

    const monitors = breakers.guard('datadog', new FakeSlack(() => new Error('503')));
    const logs = breakers.guard('datadog', new FakeSlack(() => null));
    await expect(monitors.send()).rejects.toThrow('503');
    await expect(monitors.send()).rejects.toThrow('503');
    await expect(logs.send()).rejects.toMatchObject({ type: ERROR_TYPES.circuitOpen });
  });
});
