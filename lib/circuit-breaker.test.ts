import fc from 'fast-check';
import { CircuitBreaker, CircuitOpenError, guardedBy, type BreakerStatus } from './circuit-breaker';

/** A clock the test moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const fail = () => Promise.reject(new Error('service down'));
const ok = () => Promise.resolve('answer');

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures, fails fast through the cool-down, then lets one probe through', async () => {
    const time = clock();
    const changes: BreakerStatus[] = [];
    const breaker = new CircuitBreaker({ name: 'datadog', failureThreshold: 3, coolDownMs: 30_000, now: time.now, onStateChange: (_b, state) => changes.push(state) });
    let calls = 0;
    const counted = () => {
      calls += 1;
      return fail();
    };
    for (let i = 0; i < 3; i++) await expect(breaker.run(counted)).rejects.toThrow('service down');
    expect(breaker.state()).toMatchObject({ state: 'open', consecutiveFailures: 3 });
    await expect(breaker.run(counted)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(calls).toBe(3);
    time.advance(29_999);
    await expect(breaker.run(counted)).rejects.toBeInstanceOf(CircuitOpenError);
    time.advance(1);
    expect(breaker.state().state).toBe('half_open');
    await expect(breaker.run(ok)).resolves.toBe('answer');
    expect(breaker.state()).toEqual({ name: 'datadog', state: 'closed', consecutiveFailures: 0, retryAt: null });
    expect(changes).toEqual(['open', 'half_open', 'closed']);
  });

  it('re-opens for a full cool-down when the probe fails, and refuses other calls while the probe is out', async () => {
    const time = clock();
    const breaker = new CircuitBreaker({ name: 'github', failureThreshold: 1, coolDownMs: 1_000, now: time.now });
    await expect(breaker.run(fail)).rejects.toThrow('service down');
    time.advance(1_000);
    let finishProbe: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (finishProbe = resolve)));
    await expect(breaker.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    finishProbe('late');
    await expect(probe).resolves.toBe('late');
    expect(breaker.state().state).toBe('closed');

    await expect(breaker.run(fail)).rejects.toThrow('service down');
    time.advance(1_000);
    await expect(breaker.run(fail)).rejects.toThrow('service down');
    expect(breaker.state()).toMatchObject({ state: 'open', retryAt: new Date(time.now() + 1_000).toISOString() });
    time.advance(999);
    await expect(breaker.run(ok)).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('takes what the caller says is no failure of the service (a refused bad request) as an answer, and a success resets the count', async () => {
    const breaker = new CircuitBreaker({ name: 'slack', failureThreshold: 2, coolDownMs: 1_000, isFailure: (error) => !(error as Error).message.startsWith('400') });
    await expect(breaker.run(fail)).rejects.toThrow();
    // The service answered, if only to refuse: it is up.
    await expect(breaker.run(() => Promise.reject(new Error('400 bad request')))).rejects.toThrow('400');
    await expect(breaker.run(fail)).rejects.toThrow('service down');
    expect(breaker.state()).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
    await expect(breaker.run(fail)).rejects.toThrow('service down');
    expect(breaker.state()).toMatchObject({ state: 'open' });
    const other = new CircuitBreaker({ name: 'x', failureThreshold: 2, coolDownMs: 1_000 });
    await expect(other.run(fail)).rejects.toThrow();
    await other.run(ok);
    await expect(other.run(fail)).rejects.toThrow();
    expect(other.state()).toMatchObject({ state: 'closed', consecutiveFailures: 1 });
  });

  it('throws the error the caller builds while open, and survives a listener that throws', async () => {
    const breaker = new CircuitBreaker({
      name: 'model:openai',
      failureThreshold: 1,
      coolDownMs: 5_000,
      openError: (b) => Object.assign(new Error(`open: ${b.name}`), { type: 'CircuitOpen' }),
      onStateChange: () => {
        throw new Error('listener broke');
      },
    });
    await expect(breaker.run(fail)).rejects.toThrow('service down');
    await expect(breaker.run(ok)).rejects.toMatchObject({ message: 'open: model:openai', type: 'CircuitOpen' });
  });

  it('refuses a threshold or cool-down that would make no breaker', () => {
    expect(() => new CircuitBreaker({ name: 'a', failureThreshold: 0, coolDownMs: 1 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker({ name: 'a', failureThreshold: 1.5, coolDownMs: 1 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker({ name: 'a', failureThreshold: 1, coolDownMs: 0 })).toThrow(/coolDownMs/);
  });

  it('over any sequence of outcomes and clock steps, matches a model of the states, and never calls the service while open', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('call' as const), succeeds: fc.boolean() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 2_000 }), fc.array(step, { maxLength: 60 }), async (threshold, coolDownMs, steps) => {
        const time = clock();
        const breaker = new CircuitBreaker({ name: 'p', failureThreshold: threshold, coolDownMs, now: time.now });
        // The model: closed with a count, or open until a time.
        let failures = 0;
        let openUntil: number | null = null;
        for (const s of steps) {
          if (s.kind === 'wait') {
            time.advance(s.ms);
            continue;
          }
          let reached = false;
          const outcome = await breaker
            .run(() => {
              reached = true;
              return s.succeeds ? ok() : fail();
            })
            .then(
              () => 'ok',
              (error: Error) => (error instanceof CircuitOpenError ? 'refused' : 'failed'),
            );
          if (openUntil !== null && time.now() < openUntil) {
            expect({ outcome, reached }).toEqual({ outcome: 'refused', reached: false });
            continue;
          }
          const halfOpen: boolean = openUntil !== null;
          expect({ outcome, reached }).toEqual({ outcome: s.succeeds ? 'ok' : 'failed', reached: true });
          if (s.succeeds) {
            failures = 0;
            openUntil = null;
          } else {
            failures += 1;
            openUntil = halfOpen || failures >= threshold ? time.now() + coolDownMs : null;
          }
          expect(breaker.state().state).toBe(openUntil === null ? 'closed' : 'open');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('guardedBy', () => {
  class FlakyAdapter {
    calls = 0;
    label(): string {
      return 'flaky adapter';
    }
    async fetch(id: string): Promise<string> {
      this.calls += 1;
      if (id === 'bad') throw new Error('503 from the service');
      return `item ${id}`;
    }
  }

  it('guards every asynchronous method of an adapter, passes synchronous ones and other members through, and keeps `this`', async () => {
    const adapter = new FlakyAdapter();
    const guarded = guardedBy(adapter, new CircuitBreaker({ name: 'flaky', failureThreshold: 2, coolDownMs: 60_000 }));
    await expect(guarded.fetch('1')).resolves.toBe('item 1');
    await expect(guarded.fetch('bad')).rejects.toThrow('503');
    await expect(guarded.fetch('bad')).rejects.toThrow('503');
    await expect(guarded.fetch('2')).rejects.toBeInstanceOf(CircuitOpenError);
    expect(adapter.calls).toBe(3);
    expect(guarded.calls).toBe(3);
    expect(guarded.label()).toBe('flaky adapter');
  });
});
