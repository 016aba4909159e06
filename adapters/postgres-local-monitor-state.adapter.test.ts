import { localAlertCycleKey } from '../domain/local-monitor';
import type { LocalMonitorEvaluation } from '../ports/local-monitor-state.port';
import { createTestDatabase } from '../test/support/database';
import { PostgresLocalMonitorState } from './postgres-local-monitor-state.adapter';

const TICK = Date.parse('2026-12-02T16:30:00.000Z');
const tick = (minute: number) => new Date(TICK + minute * 60_000);
const MONITOR = '0b8e6a52-3f0c-4c59-9d7e-2a1f4b6c8d90';

function evaluation(minute: number, count: number): LocalMonitorEvaluation {
  return {
    tick: tick(minute),
    breached: count > 5,
    facts: { monitorId: MONITOR, monitorName: 'checkout errors', monitorMessage: 'Errors: {{value}}', tags: ['service:checkout'], search: 'service:checkout status:error', window: '5m', count, group: null, comparator: '>', threshold: 5 },
  };
}

describe('PostgresLocalMonitorState', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let state: PostgresLocalMonitorState;

  beforeAll(async () => {
    database = await createTestDatabase();
    state = new PostgresLocalMonitorState(database.pool);
  });

  afterAll(async () => {
    await database.drop();
  });

  beforeEach(async () => {
    await database.pool.query('TRUNCATE local_monitor_states, local_monitor_transitions');
  });

  it('keeps the state from tick to tick and writes each transition to the outbox with its payload', async () => {
    expect(await state.status(MONITOR)).toBeNull();
    expect(await state.recordEvaluation(MONITOR, evaluation(0, 1))).toEqual({ outcome: 'evaluated', state: 'OK', alertCycleKey: null, transition: null });
    const cycle = localAlertCycleKey(tick(1));
    expect(await state.recordEvaluation(MONITOR, evaluation(1, 9))).toEqual({ outcome: 'evaluated', state: 'Alert', alertCycleKey: cycle, transition: { transition: 'Triggered', alertCycleKey: cycle } });
    expect(await state.recordEvaluation(MONITOR, evaluation(2, 7))).toMatchObject({ state: 'Alert', transition: null });
    expect(await state.recordEvaluation(MONITOR, evaluation(3, 0))).toMatchObject({ state: 'OK', alertCycleKey: cycle, transition: { transition: 'Recovered', alertCycleKey: cycle } });
    expect(await state.status(MONITOR)).toEqual({ state: 'OK', alertCycleKey: cycle, lastTick: tick(3) });

    const transitions = await state.transitions(MONITOR);
    expect(transitions.map((t) => [t.transition, t.alertCycleKey, t.tick.toISOString(), t.deliveredAt])).toEqual([
      ['Triggered', cycle, tick(1).toISOString(), null],
      ['Recovered', cycle, tick(3).toISOString(), null],
    ]);
    expect(transitions[0]!.payload).toMatchObject({ monitor_id: MONITOR, alert_cycle_key: cycle, transition: 'Triggered', title: '[Triggered] checkout errors', date: String(tick(1).getTime()) });
    expect(transitions[0]!.payload.message).toContain('Errors: 9');
  });

  it('decides a tick once, however often and however concurrently it is evaluated', async () => {
    await state.recordEvaluation(MONITOR, evaluation(0, 1));
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => state.recordEvaluation(MONITOR, evaluation(1, 9))));
    expect(outcomes.filter((o) => o.outcome === 'evaluated')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'already_evaluated')).toHaveLength(4);
    // An older tick arriving late (a delayed run) changes nothing either.
    expect(await state.recordEvaluation(MONITOR, evaluation(0, 0))).toEqual({ outcome: 'already_evaluated' });
    expect(await state.transitions(MONITOR)).toHaveLength(1);
    expect(await state.status(MONITOR)).toMatchObject({ state: 'Alert', lastTick: tick(1) });
  });

  it('first evaluations of one monitor racing each other still make one transition', async () => {
    const outcomes = await Promise.all([1, 2, 3].map(() => state.recordEvaluation(MONITOR, evaluation(0, 9))));
    expect(outcomes.filter((o) => o.outcome === 'evaluated')).toHaveLength(1);
    expect(await state.transitions(MONITOR)).toHaveLength(1);
  });

  it('leases undelivered transitions oldest first, gives a released or expired one out again, and never a delivered one', async () => {
    await state.recordEvaluation(MONITOR, evaluation(0, 9));
    await state.recordEvaluation(MONITOR, evaluation(1, 0));
    const claimed = await state.claimUndelivered(10, 60_000);
    expect(claimed.map((t) => [t.transition, t.attempts])).toEqual([
      ['Triggered', 1],
      ['Recovered', 1],
    ]);
    // Held: a second delivery running meanwhile gets nothing.
    expect(await state.claimUndelivered(10, 60_000)).toEqual([]);

    await state.markDelivered(claimed[0]!.id, 202);
    await state.markDeliveryFailed(claimed[1]!.id, { status: 503, error: 'answered 503' });
    const again = await state.claimUndelivered(10, 1);
    expect(again.map((t) => [t.transition, t.attempts, t.lastStatus, t.lastError])).toEqual([['Recovered', 2, 503, 'answered 503']]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Its delivery died without a word: once the lease is over, the transition is claimable again.
    expect((await state.claimUndelivered(10, 60_000)).map((t) => t.attempts)).toEqual([3]);

    const delivered = (await state.transitions(MONITOR))[0]!;
    expect(delivered.deliveredAt).toBeInstanceOf(Date);
    expect(delivered.lastStatus).toBe(202);
    // A late failure report of a delivered transition does not undo it.
    await state.markDeliveryFailed(delivered.id, { status: null, error: 'late' });
    expect((await state.transitions(MONITOR))[0]).toMatchObject({ lastStatus: 202, lastError: null });
  });
});
