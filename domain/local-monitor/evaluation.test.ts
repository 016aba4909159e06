import { normalizeDatadogPayload } from '../alert';
import { seededRandom } from '../../test/support/random-log-search';
import {
  breaches,
  evaluationWindowMs,
  windowText,
  judgedCount,
  localAlertCycleKey,
  localMonitorTickOf,
  localMonitorWebhookPayload,
  renderMonitorMessage,
  stepLocalMonitor,
  type LocalMonitorStatus,
  type LocalTransitionFacts,
} from '.';

const TICK = new Date('2026-12-02T16:30:00.000Z');
const minutes = (n: number) => new Date(TICK.getTime() + n * 60_000);

describe('breaches', () => {
  it.each([
    [6, '>', 5, true],
    [5, '>', 5, false],
    [5, '>=', 5, true],
    [4, '>=', 5, false],
    [4, '<', 5, true],
    [5, '<', 5, false],
    [5, '<=', 5, true],
    [6, '<=', 5, false],
  ] as const)('%d %s %d is %s', (value, comparator, threshold, expected) => {
    expect(breaches(value, comparator, threshold)).toBe(expected);
  });
});

describe('judgedCount', () => {
  const groups = [
    { group: '/checkout', count: 9 },
    { group: '/cart', count: 2 },
    { group: null, count: 4 },
  ];

  it('judges a grouped monitor by its worst group, for the direction its comparator looks', () => {
    expect(judgedCount(groups, '>')).toEqual({ count: 9, group: '/checkout' });
    expect(judgedCount(groups, '>=')).toEqual({ count: 9, group: '/checkout' });
    expect(judgedCount(groups, '<')).toEqual({ count: 2, group: '/cart' });
    expect(judgedCount(groups, '<=')).toEqual({ count: 2, group: '/cart' });
  });

  it('counts nothing as zero', () => {
    expect(judgedCount([], '>')).toEqual({ count: 0, group: null });
  });
});

describe('localMonitorTickOf and localAlertCycleKey', () => {
  it('puts a moment in its minute and names a cycle by the tick it began at', () => {
    expect(localMonitorTickOf(new Date('2026-12-02T16:30:59.999Z'))).toEqual(TICK);
    expect(localMonitorTickOf(TICK)).toEqual(TICK);
    expect(localAlertCycleKey(TICK)).toBe('local-2026-12-02T16-30-00Z');
    expect(localAlertCycleKey(minutes(1))).not.toBe(localAlertCycleKey(TICK));
  });
});

describe('stepLocalMonitor', () => {
  it('triggers in a new cycle, stays quiet while the state holds, and recovers in the same cycle', () => {
    const first = stepLocalMonitor(null, TICK, false);
    expect(first).toEqual({ kind: 'evaluated', status: { state: 'OK', alertCycleKey: null, lastTick: TICK }, transition: null });

    const triggered = stepLocalMonitor((first as { status: LocalMonitorStatus }).status, minutes(1), true);
    const cycle = localAlertCycleKey(minutes(1));
    expect(triggered).toEqual({ kind: 'evaluated', status: { state: 'Alert', alertCycleKey: cycle, lastTick: minutes(1) }, transition: { transition: 'Triggered', alertCycleKey: cycle } });

    const still = stepLocalMonitor((triggered as { status: LocalMonitorStatus }).status, minutes(2), true);
    expect(still).toEqual({ kind: 'evaluated', status: { state: 'Alert', alertCycleKey: cycle, lastTick: minutes(2) }, transition: null });

    const recovered = stepLocalMonitor((still as { status: LocalMonitorStatus }).status, minutes(3), false);
    expect(recovered).toEqual({ kind: 'evaluated', status: { state: 'OK', alertCycleKey: cycle, lastTick: minutes(3) }, transition: { transition: 'Recovered', alertCycleKey: cycle } });

    const again = stepLocalMonitor((recovered as { status: LocalMonitorStatus }).status, minutes(4), true);
    expect(again.kind === 'evaluated' && again.transition).toEqual({ transition: 'Triggered', alertCycleKey: localAlertCycleKey(minutes(4)) });
  });

  it('refuses a tick it has already decided, or an earlier one', () => {
    const status: LocalMonitorStatus = { state: 'OK', alertCycleKey: null, lastTick: TICK };
    expect(stepLocalMonitor(status, TICK, true)).toEqual({ kind: 'already_evaluated' });
    expect(stepLocalMonitor(status, minutes(-1), true)).toEqual({ kind: 'already_evaluated' });
  });

  it('alternates Triggered and Recovered, each Recovered in its Triggered cycle, over any run of breaches', () => {
    const random = seededRandom(20261202);
    for (let run = 0; run < 50; run++) {
      let status: LocalMonitorStatus | null = null;
      const transitions: { transition: string; alertCycleKey: string }[] = [];
      for (let minute = 0; minute < 40; minute++) {
        const step = stepLocalMonitor(status, minutes(minute), random(1) === 1);
        if (step.kind !== 'evaluated') throw new Error('a later tick was refused');
        status = step.status;
        if (step.transition) transitions.push(step.transition);
      }
      transitions.forEach((t, i) => {
        expect(t.transition).toBe(i % 2 === 0 ? 'Triggered' : 'Recovered');
        if (i % 2 === 1) expect(t.alertCycleKey).toBe(transitions[i - 1]!.alertCycleKey);
      });
      const triggers = transitions.filter((t) => t.transition === 'Triggered').map((t) => t.alertCycleKey);
      expect(new Set(triggers).size).toBe(triggers.length);
      expect(status!.state).toBe(transitions.length % 2 === 1 ? 'Alert' : 'OK');
    }
  });
});

describe('localMonitorWebhookPayload', () => {
  const facts: LocalTransitionFacts = {
    monitorId: '0b8e6a52-3f0c-4c59-9d7e-2a1f4b6c8d90',
    monitorName: 'checkout: TypeErrors in pricing',
    monitorMessage: '{{#is_alert}}Pricing throws: {{value}} over {{threshold}}.{{/is_alert}}{{#is_recovery}}Pricing is quiet again.{{/is_recovery}}\n@webhook-steward',
    tags: ['service:checkout-service', 'created_by:steward'],
    transition: 'Triggered',
    alertCycleKey: localAlertCycleKey(TICK),
    tick: TICK,
    search: 'service:checkout-service status:error TypeError',
    window: '5m',
    count: 7,
    group: null,
    comparator: '>',
    threshold: 5,
  };

  it('is read by the Datadog webhook as the alert Datadog would send', () => {
    const alert = normalizeDatadogPayload(localMonitorWebhookPayload(facts));
    expect(alert).toMatchObject({
      monitorId: facts.monitorId,
      alertCycleKey: 'local-2026-12-02T16-30-00Z',
      transition: 'triggered',
      rawTransition: 'Triggered',
      title: '[Triggered] checkout: TypeErrors in pricing',
      tags: ['service:checkout-service', 'created_by:steward'],
      service: 'checkout-service',
      occurredAt: TICK.toISOString(),
      link: `local-monitor://monitors/${facts.monitorId}`,
      eventId: 'local-2026-12-02T16-30-00Z-triggered',
    });
    expect(alert.message).toContain('Pricing throws: 7 over 5.');
    expect(alert.message).not.toContain('quiet again');
    expect(alert.message).toContain('7 logs matching "service:checkout-service status:error TypeError" over the last 5m: > 5');
  });

  it('says Recovered in the same cycle, with the recovery section of the message', () => {
    const alert = normalizeDatadogPayload(localMonitorWebhookPayload({ ...facts, transition: 'Recovered', tick: minutes(3), count: 1 }));
    expect(alert).toMatchObject({ transition: 'recovered', alertCycleKey: facts.alertCycleKey, title: '[Recovered] checkout: TypeErrors in pricing', eventId: `${facts.alertCycleKey}-recovered` });
    expect(alert.message).toContain('Pricing is quiet again.');
    expect(alert.message).not.toContain('Pricing throws');
    expect(alert.message).toContain('no longer > 5');
  });

  it('keeps the message within what the webhook takes', () => {
    const payload = localMonitorWebhookPayload({ ...facts, monitorMessage: 'x'.repeat(200_000) });
    expect(() => normalizeDatadogPayload(payload)).not.toThrow();
    expect(payload.message).toContain('Evaluated by Steward');
  });
});

describe('renderMonitorMessage', () => {
  it('leaves variables it has no value for as written, and renders negated sections', () => {
    expect(renderMonitorMessage('{{^is_alert}}calm{{/is_alert}} {{host.name}} {{ value }}', { transition: 'Recovered', count: 0, threshold: 3, comparator: '>=' })).toBe('calm {{host.name}} 0');
  });
});

describe('evaluationWindowMs and windowText', () => {
  it('reads the store\'s window, tuned or not, and words it back', () => {
    expect(evaluationWindowMs('last_5m')).toBe(300_000);
    expect(evaluationWindowMs('last_2h')).toBe(7_200_000);
    expect(evaluationWindowMs('last_1w')).toBe(604_800_000);
    expect(evaluationWindowMs('last_0m')).toBeNull();
    expect(evaluationWindowMs('5m')).toBeNull();
    expect(evaluationWindowMs(null)).toBeNull();
    expect(windowText(300_000)).toBe('5m');
    expect(windowText(7_200_000)).toBe('2h');
    expect(windowText(90_000)).toBe('90s');
  });
});
