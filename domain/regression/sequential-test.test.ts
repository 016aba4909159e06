import { SeededRandom } from '../../lib/seeded-random';
import { observeRegressionTest, startRegressionTest, type BaselineSignature, type RegressionTestSettings, type RegressionTestState, type SignatureEvidence } from './sequential-test';

/**
 * The sequential test's guarantees, checked by simulation with a seeded generator: error streams
 * whose rate wanders from hour to hour by a gamma factor (CV 0.2 steady, 1 or more bursty), a
 * baseline of hourly counts, then counts minute by minute after the deploy, looked at every minute
 * for an hour as the deploy watch does.
 */

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DEPLOY = Date.parse('2026-12-01T12:00:00Z');

interface Stream {
  id: string;
  rate: number;
  cv: number;
}

function factor(random: SeededRandom, cv: number): number {
  if (cv === 0) return 1;
  const shape = 1 / (cv * cv);
  return random.gamma(shape) / shape;
}

function baselineOf(random: SeededRandom, streams: Stream[], hours = 168, samplingRate = 1): BaselineSignature[] {
  return streams.map((stream) => ({
    signature: stream.id,
    template: `failure in ${stream.id} <*>`,
    hourlyCounts: Array.from({ length: hours }, () => random.poisson(samplingRate * stream.rate * factor(random, stream.cv))),
  }));
}

/** Lines in each minute after the deploy; the hour after has a factor of its own, like any other hour. */
function afterOf(random: SeededRandom, streams: Stream[], multiplier: (stream: Stream) => number = () => 1): number[][] {
  return streams.map((stream) => {
    const rate = (stream.rate * multiplier(stream) * factor(random, stream.cv)) / 60;
    return Array.from({ length: 60 }, () => random.poisson(rate));
  });
}

interface Watched {
  flagged: SignatureEvidence[];
  state: RegressionTestState;
}

/** Polls every minute for the hour, with cumulative counts, as the deploy watch does. */
function watch(state: RegressionTestState, streams: Stream[], minutes: number[][], stopAtFirstFlag = false): Watched {
  const cumulative = streams.map(() => 0);
  const flagged: SignatureEvidence[] = [];
  for (let minute = 1; minute <= 60; minute += 1) {
    streams.forEach((_, i) => (cumulative[i] += minutes[i]![minute - 1]!));
    const look = observeRegressionTest(state, {
      at: new Date(DEPLOY + minute * MINUTE).toISOString(),
      elapsedMs: minute * MINUTE,
      counts: streams.map((stream, i) => ({ signature: stream.id, template: `failure in ${stream.id} <*>`, count: cumulative[i]! })).filter((entry) => entry.count > 0),
    });
    state = look.state;
    flagged.push(...look.newlyFlagged);
    if (stopAtFirstFlag && flagged.length > 0) break;
  }
  return { flagged, state };
}

const SETTINGS: RegressionTestSettings = { falseAlarmRate: 0.1, pollMs: MINUTE, horizonMs: HOUR };

/** Upper end of what a false-alarm share measured on n deploys may be when the true share is at most α: three binomial standard errors. */
const allowed = (alpha: number, n: number) => alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / n);

function mixedStreams(random: SeededRandom, count: number, bursty: number): Stream[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `s${i}`,
    rate: Math.exp(Math.log(0.2) + random.next() * Math.log(300 / 0.2)),
    cv: i < bursty ? 1 + 0.5 * random.next() : 0.2,
  }));
}

describe('the sequential regression test', () => {
  it('keeps false alarms under continuous monitoring within the per-deploy budget', () => {
    const random = new SeededRandom(7);
    const streams = mixedStreams(random, 30, 12);
    const deploys = 200;
    let alarmed = 0;
    for (let d = 0; d < deploys; d += 1) {
      const state = startRegressionTest(baselineOf(random, streams), SETTINGS);
      if (watch(state, streams, afterOf(random, streams), true).flagged.length > 0) alarmed += 1;
    }
    expect(alarmed / deploys).toBeLessThanOrEqual(allowed(0.1, deploys));
  });

  it('counts the uncertainty of a short, sampled baseline', () => {
    const random = new SeededRandom(11);
    const streams = mixedStreams(random, 20, 8);
    const deploys = 150;
    let alarmed = 0;
    for (let d = 0; d < deploys; d += 1) {
      // One day of baseline, one line in five counted: rates are known far less well.
      const state = startRegressionTest(baselineOf(random, streams, 24, 0.2), { ...SETTINGS, samplingRate: 0.2 });
      if (watch(state, streams, afterOf(random, streams), true).flagged.length > 0) alarmed += 1;
    }
    expect(alarmed / deploys).toBeLessThanOrEqual(allowed(0.1, deploys));
  });

  it('is not fooled by bursty streams, where a plain Poisson test at the same level alarms on most deploys', () => {
    const random = new SeededRandom(3);
    const streams: Stream[] = Array.from({ length: 15 }, (_, i) => ({ id: `b${i}`, rate: 20 + 15 * i, cv: 1.5 }));
    const deploys = 100;
    let alarmed = 0;
    let poissonAlarmed = 0;
    for (let d = 0; d < deploys; d += 1) {
      const baseline = baselineOf(random, streams);
      const minutes = afterOf(random, streams);
      if (watch(startRegressionTest(baseline, SETTINGS), streams, minutes, true).flagged.length > 0) alarmed += 1;
      // A stricter level per signature (one-sided 0.5%, z = 2.58) than Steward's share, for a test that takes the baseline mean as the exact rate and looks once, at 60 minutes.
      const poissonFlags = streams.filter((_, i) => {
        const mean = baseline[i]!.hourlyCounts.reduce((a, b) => a + b, 0) / 168;
        const observed = minutes[i]!.reduce((a, b) => a + b, 0);
        return observed > mean + 2.58 * Math.sqrt(mean);
      });
      if (poissonFlags.length > 0) poissonAlarmed += 1;
    }
    expect(poissonAlarmed / deploys).toBeGreaterThan(0.5);
    expect(alarmed / deploys).toBeLessThanOrEqual(allowed(0.1, deploys));
  });

  it('flags a tripled steady signature within minutes, at the poll whose evidence is enough, and keeps it flagged', () => {
    const random = new SeededRandom(5);
    const streams: Stream[] = [{ id: 'target', rate: 400, cv: 0.2 }, ...mixedStreams(random, 15, 5)];
    const runs = 40;
    const delays: number[] = [];
    for (let run = 0; run < runs; run += 1) {
      const state = startRegressionTest(baselineOf(random, streams), { ...SETTINGS, falseAlarmRate: 0.01 });
      const { flagged, state: end } = watch(state, streams, afterOf(random, streams, (stream) => (stream.id === 'target' ? 3 : 1)));
      const hit = flagged.find((evidence) => evidence.signature === 'target');
      if (!hit) continue;
      const minute = (Date.parse(hit.flaggedAt!) - DEPLOY) / MINUTE;
      delays.push(minute);
      expect(hit.kind).toBe('raised');
      expect(hit.log10Evidence).toBeGreaterThanOrEqual(hit.log10Threshold);
      expect(hit.ratio).toBeGreaterThan(1.5);
      expect(end.flagged.filter((evidence) => evidence.signature === 'target')).toEqual([hit]);
    }
    expect(delays.filter((minute) => minute <= 10).length / runs).toBeGreaterThanOrEqual(0.9);
  });

  it('finds a moderate rise over the hour, and not a rise of a bursty signature that its bursts explain', () => {
    const random = new SeededRandom(9);
    const steady: Stream = { id: 'steady', rate: 40, cv: 0.2 };
    const runs = 40;
    let found = 0;
    for (let run = 0; run < runs; run += 1) {
      const state = startRegressionTest(baselineOf(random, [steady]), { ...SETTINGS, falseAlarmRate: 0.01 });
      if (watch(state, [steady], afterOf(random, [steady], () => 3)).flagged.length > 0) found += 1;
    }
    expect(found / runs).toBeGreaterThanOrEqual(0.9);

    const bursty: Stream = { id: 'bursty', rate: 40, cv: 1.5 };
    const state = startRegressionTest(baselineOf(random, [bursty]), { ...SETTINGS, falseAlarmRate: 0.01 });
    const minutes = [Array.from({ length: 60 }, () => random.poisson((3 * 40) / 60))];
    const look = watch(state, [bursty], minutes).state;
    expect(look.flagged).toEqual([]);
  });

  describe('new signatures', () => {
    const known: Stream[] = [{ id: 'known', rate: 30, cv: 0.2 }];
    const look = (state: RegressionTestState, minute: number, counts: { signature: string; count: number }[]) =>
      observeRegressionTest(state, { at: new Date(DEPLOY + minute * MINUTE).toISOString(), elapsedMs: minute * MINUTE, counts: counts.map((c) => ({ ...c, template: `template of ${c.signature}` })) });

    it('flags a signature the baseline never saw once it repeats, as new, without a ratio', () => {
      const random = new SeededRandom(2);
      let state = startRegressionTest(baselineOf(random, known), { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
      const first = look(state, 1, [{ signature: 'known', count: 1 }, { signature: 'fresh', count: 1 }]);
      expect(first.newlyFlagged).toEqual([]);
      expect(first.examined).toBe(2);
      state = first.state;
      const second = look(state, 3, [{ signature: 'known', count: 2 }, { signature: 'fresh', count: 3 }]);
      expect(second.newlyFlagged).toHaveLength(1);
      expect(second.newlyFlagged[0]).toMatchObject({ signature: 'fresh', kind: 'new', baselineCount: 0, afterCount: 3, ratio: null, template: 'template of fresh', flaggedAt: new Date(DEPLOY + 3 * MINUTE).toISOString() });
      expect(second.top[0]!.signature).toBe('fresh');
    });

    it('treats a baseline signature with no line the same way: a baseline count of zero', () => {
      const random = new SeededRandom(4);
      const baseline = [...baselineOf(random, known), { signature: 'silent', template: 'silent <*>', hourlyCounts: new Array<number>(168).fill(0) }];
      const state = startRegressionTest(baseline, { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
      const result = look(state, 3, [{ signature: 'silent', count: 3 }]);
      expect(result.newlyFlagged.map((e) => [e.signature, e.kind])).toEqual([['silent', 'new']]);
    });

    it('spends less of the budget on each later newcomer, so a crowd of one-off lines is not enough', () => {
      const random = new SeededRandom(6);
      const state = startRegressionTest(baselineOf(random, known), { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
      const crowd = Array.from({ length: 30 }, (_, i) => ({ signature: `stray${String(i).padStart(2, '0')}`, count: 1 }));
      const result = look(state, 30, crowd);
      expect(result.newlyFlagged).toEqual([]);
      const thresholds = result.top.filter((e) => e.kind === 'new').map((e) => e.log10Threshold);
      expect(thresholds.length).toBeGreaterThan(1);
      expect(Math.max(...thresholds)).toBeGreaterThan(Math.min(...thresholds));
    });
  });

  describe('a trend that predates the deploy', () => {
    /** Flat at 10 an hour, then rising linearly to 60 an hour over the last 12 hours before the deploy. */
    const rising = (random: SeededRandom): number[] => Array.from({ length: 168 }, (_, h) => random.poisson(h < 156 ? 10 : 10 + ((h - 155) * 50) / 12));
    /** The hour after, continuing the same rise (about 62 to 66 an hour). */
    const continuing = (random: SeededRandom): number[] => Array.from({ length: 60 }, (_, m) => random.poisson((60 + (50 / 12) * (1 + m / 60)) / 60));

    it('does not pin the rise on the deploy, while the same hour against a flat baseline is flagged', () => {
      const random = new SeededRandom(8);
      const streams: Stream[] = [{ id: 'trend', rate: 10, cv: 0 }];
      const runs = 60;
      let pinned = 0;
      let flaggedAgainstFlat = 0;
      let markedPretrend = 0;
      for (let run = 0; run < runs; run += 1) {
        const after = [continuing(random)];
        const trendState = startRegressionTest([{ signature: 'trend', template: 't', hourlyCounts: rising(random) }], { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
        if (trendState.baseline.pretrend[0] === 1) markedPretrend += 1;
        if (watch(trendState, streams, after).flagged.length > 0) pinned += 1;
        const flatState = startRegressionTest(baselineOf(random, streams), { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
        if (watch(flatState, streams, after).flagged.length > 0) flaggedAgainstFlat += 1;
      }
      expect(markedPretrend / runs).toBeGreaterThanOrEqual(0.95);
      expect(pinned / runs).toBeLessThanOrEqual(0.05);
      expect(flaggedAgainstFlat / runs).toBeGreaterThanOrEqual(0.95);
    });

    it('still flags a jump well beyond the trend', () => {
      const random = new SeededRandom(10);
      const streams: Stream[] = [{ id: 'trend', rate: 10, cv: 0 }];
      let found = 0;
      const runs = 30;
      for (let run = 0; run < runs; run += 1) {
        const state = startRegressionTest([{ signature: 'trend', template: 't', hourlyCounts: rising(random) }], { falseAlarmRate: 0.01, pollMs: MINUTE, horizonMs: HOUR });
        const after = [Array.from({ length: 60 }, () => random.poisson(250 / 60))];
        const hit = watch(state, streams, after).flagged[0];
        if (hit) {
          found += 1;
          expect(hit.pretrend).toBe(true);
        }
      }
      expect(found / runs).toBeGreaterThanOrEqual(0.9);
    });
  });

  describe('its state', () => {
    it('is JSON: a state saved and loaded between polls gives the same answers, and flags stay with their first time', () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const random = new SeededRandom(seed);
        const streams = mixedStreams(random, 25, 8);
        const minutes = afterOf(random, streams, (stream) => (stream.id === 's20' ? 4 : 1));
        const fresh = Array.from({ length: 60 }, () => random.poisson(0.4));
        let live = startRegressionTest(baselineOf(random, streams), SETTINGS);
        let saved: RegressionTestState = JSON.parse(JSON.stringify(live));
        const cumulative = streams.map(() => 0);
        let freshCount = 0;
        const firstFlag = new Map<string, string>();
        for (let minute = 1; minute <= 60; minute += 1) {
          streams.forEach((_, i) => (cumulative[i] += minutes[i]![minute - 1]!));
          freshCount += fresh[minute - 1]!;
          const counts = [...streams.map((stream, i) => ({ signature: stream.id, template: stream.id, count: cumulative[i]! })), { signature: 'brand-new', template: 'brand new <*>', count: freshCount }];
          const poll = { at: new Date(DEPLOY + minute * MINUTE).toISOString(), elapsedMs: minute * MINUTE, counts };
          const a = observeRegressionTest(live, poll);
          const b = observeRegressionTest(saved, poll);
          expect(b.newlyFlagged).toEqual(a.newlyFlagged);
          expect(b.top).toEqual(a.top);
          for (const evidence of a.newlyFlagged) {
            expect(firstFlag.has(evidence.signature)).toBe(false);
            firstFlag.set(evidence.signature, evidence.flaggedAt!);
          }
          for (const evidence of a.top) if (firstFlag.has(evidence.signature)) expect(evidence.flaggedAt).toBe(firstFlag.get(evidence.signature));
          expect(a.state.flagged.map((e) => e.signature).sort()).toEqual([...firstFlag.keys()].sort());
          live = a.state;
          saved = JSON.parse(JSON.stringify(b.state));
        }
      }
    });

    it('stays well under 100 KB for 500 signatures of a week', () => {
      const random = new SeededRandom(12);
      const streams = mixedStreams(random, 500, 200);
      const baseline = baselineOf(random, streams).map((entry) => ({ ...entry, template: `${entry.template} while calling the inventory service for order <*> at <*>`.slice(0, 90) }));
      const size = JSON.stringify(startRegressionTest(baseline, SETTINGS)).length;
      expect(size).toBeLessThan(100_000);
    });

    it('refuses bad input, naming the field', () => {
      const good = [{ signature: 'a', template: 't', hourlyCounts: [1, 2] }];
      expect(() => startRegressionTest([{ signature: 'a', template: 't', hourlyCounts: [1, -2] }])).toThrow(/baseline\[0\]\.hourlyCounts/);
      expect(() => startRegressionTest([...good, ...good])).toThrow(/baseline\[1\]\.signature: a appears twice/);
      expect(() => startRegressionTest(good, { samplingRate: 0 })).toThrow(/samplingRate/);
      const state = startRegressionTest(good);
      expect(() => observeRegressionTest(state, { at: 'later', elapsedMs: 1, counts: [] })).toThrow(/look\.at/);
      expect(() => observeRegressionTest(state, { at: new Date(DEPLOY).toISOString(), elapsedMs: 1, counts: [{ signature: 'a', template: 't', count: 1.5 }] })).toThrow(/look\.counts/);
    });
  });
});
