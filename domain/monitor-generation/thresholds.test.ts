import type { BaselineSignature } from '../regression/sequential-test';
import { baselineFor, closestTemplate, countThresholds, leastCountWithin, negativeBinomialTail, QUARTER_MS, templateSimilarity } from './thresholds';

const FIVE_MINUTES = 300_000;
const WEEK_HOURS = 168;

/** mulberry32: fast-check is not among the dependencies, and a failure must repeat. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(random: () => number, mean: number): number {
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let product = random();
  while (product > limit) {
    k += 1;
    product *= random();
  }
  return k;
}

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const baselineOf = (hourlyCounts: number[], signature = 'a1b2c3d4e5f60718', template = 'bulk price missing for <*>'): BaselineSignature => ({ signature, template, hourlyCounts });
const steadyWeek = (random: () => number, perHour: number) => Array.from({ length: WEEK_HOURS }, () => poisson(random, perHour));

describe('negativeBinomialTail', () => {
  it('is the Poisson tail when the shape is large', () => {
    // P(X > 5) for Poisson(3), by hand: 1 − e^−3 Σ_{k≤5} 3^k/k!
    let head = 0;
    for (let k = 0, term = Math.exp(-3); k <= 5; k += 1, term *= 3 / k) head += term;
    expect(negativeBinomialTail(5, 1e7, 3)).toBeCloseTo(1 - head, 6);
  });

  it('is the geometric tail when the shape is one', () => {
    // Shape 1, mean m: P(X > n) = (m / (1 + m))^(n+1).
    expect(negativeBinomialTail(9, 1, 4)).toBeCloseTo((4 / 5) ** 10, 12);
    expect(negativeBinomialTail(200, 1, 4)).toBeCloseTo((4 / 5) ** 201, 30);
  });

  it('falls as n grows', () => {
    const tails = [0, 1, 2, 5, 10, 20, 50].map((n) => negativeBinomialTail(n, 2.5, 6));
    for (let i = 1; i < tails.length; i += 1) expect(tails[i]!).toBeLessThan(tails[i - 1]!);
  });
});

describe('countThresholds from a baseline', () => {
  it('sets the least critical within one false fire a quarter, and a warning within one a week', () => {
    const random = seeded(11);
    for (let run = 0; run < 60; run += 1) {
      const perHour = 0.2 + random() * 200;
      const result = countThresholds({ baseline: baselineOf(steadyWeek(random, perHour)), similarity: 1 }, { windowMs: FIVE_MINUTES });
      const { shape, expectedPerWindow } = result.nullModel!;
      const evaluations = QUARTER_MS / 60_000;
      expect(result.setFrom).toBe('baseline');
      expect(result.impliedFalseFiresPerQuarter!).toBeLessThanOrEqual(1.001);
      // The least such count: one line lower would fire falsely more than once a quarter (the null's figures are rounded to 4 digits).
      if (result.critical > 0) expect(evaluations * negativeBinomialTail(result.critical - 1, shape, expectedPerWindow)).toBeGreaterThan(0.99);
      if (result.warning !== null) {
        expect(result.warning).toBeLessThan(result.critical);
        expect(result.impliedWarningsPerWeek!).toBeLessThanOrEqual(1.001);
      }
    }
  });

  it('fires about as rarely as it says, on a simulated quarter of minute-by-minute evaluations', () => {
    const random = seeded(5);
    const perHour = 24;
    const thresholds = countThresholds({ baseline: baselineOf(steadyWeek(random, perHour)), similarity: 1 }, { windowMs: FIVE_MINUTES });
    const minutes = Math.round(QUARTER_MS / 60_000);
    const quarters = 6;
    const firesAt = (critical: number, seed: number) => {
      const draw = seeded(seed);
      const window: number[] = [];
      let sum = 0;
      let fires = 0;
      let alerting = false;
      for (let minute = 0; minute < minutes; minute += 1) {
        const count = poisson(draw, perHour / 60);
        window.push(count);
        sum += count;
        if (window.length > 5) sum -= window.shift()!;
        const above = sum > critical;
        if (above && !alerting) fires += 1;
        alerting = above;
      }
      return fires;
    };
    let fires = 0;
    let firesTwoBelow = 0;
    for (let q = 0; q < quarters; q += 1) {
      fires += firesAt(thresholds.critical, 100 + q);
      firesTwoBelow += firesAt(thresholds.critical - 2, 100 + q);
    }
    expect(fires / quarters).toBeLessThanOrEqual(1.5);
    // Not needlessly high: two lines lower, it would fire falsely more than once a quarter.
    expect(firesTwoBelow / quarters).toBeGreaterThan(1);
  });

  it('sets a bursty signature’s critical above a steady one’s of the same mean', () => {
    const random = seeded(3);
    const steady = steadyWeek(random, 10);
    const bursty = Array.from({ length: WEEK_HOURS }, (_, hour) => poisson(random, hour % 2 === 0 ? 19 : 1));
    const mean = (counts: number[]) => counts.reduce((a, b) => a + b, 0) / counts.length;
    expect(Math.abs(mean(bursty) - mean(steady))).toBeLessThan(1.5);
    const steadyCritical = countThresholds({ baseline: baselineOf(steady), similarity: 1 }, { windowMs: FIVE_MINUTES }).critical;
    const burstyCritical = countThresholds({ baseline: baselineOf(bursty), similarity: 1 }, { windowMs: FIVE_MINUTES }).critical;
    expect(burstyCritical).toBeGreaterThan(steadyCritical);
  });

  it('sets a higher critical from a sampled baseline, whose counts stand for more lines', () => {
    const counts = steadyWeek(seeded(9), 5);
    const complete = countThresholds({ baseline: baselineOf(counts), similarity: 1 }, { windowMs: FIVE_MINUTES });
    const sampled = countThresholds({ baseline: baselineOf(counts), similarity: 1 }, { windowMs: FIVE_MINUTES, samplingRate: 0.1 });
    expect(sampled.critical).toBeGreaterThan(complete.critical);
  });

  it('sets a lower critical counting disjoint windows than counting every evaluation', () => {
    const counts = steadyWeek(seeded(13), 30);
    const evaluations = countThresholds({ baseline: baselineOf(counts), similarity: 1 }, { windowMs: FIVE_MINUTES });
    const windows = countThresholds({ baseline: baselineOf(counts), similarity: 1 }, { windowMs: FIVE_MINUTES, windowCounting: 'windows' });
    expect(windows.critical).toBeLessThan(evaluations.critical);
    expect(windows.impliedFalseFiresPerQuarter!).toBeLessThanOrEqual(1.001);
  });

  it('records the basis, and says when a close template stood in', () => {
    const result = countThresholds({ baseline: baselineOf([3, 4, 5], 'ffff000011112222', 'bulk price missing for sku <*>'), similarity: 0.83 }, { windowMs: FIVE_MINUTES });
    expect(result.basis).toEqual({ signature: 'ffff000011112222', template: 'bulk price missing for sku <*>', similarity: 0.83, baselineHours: 3, baselineLines: 12 });
    expect(result.explanation).toContain('close template');
  });

  it('refuses counts that are not whole numbers', () => {
    expect(() => countThresholds({ baseline: baselineOf([1, 2.5]), similarity: 1 }, { windowMs: FIVE_MINUTES })).toThrow('whole numbers');
    expect(() => countThresholds({ baseline: baselineOf([]), similarity: 1 }, { windowMs: FIVE_MINUTES })).toThrow('at least one hour');
  });
});

describe('countThresholds without a baseline', () => {
  it.each([
    [FIVE_MINUTES, 10, 2],
    [60_000, 5, 1],
    [3_600_000, 120, 30],
  ])('for a %d ms window: critical %d, warning %d, no rate implied', (windowMs, critical, warning) => {
    expect(countThresholds(null, { windowMs })).toMatchObject({ critical, warning, setFrom: 'default', impliedFalseFiresPerQuarter: null, basis: null });
  });
});

describe('leastCountWithin', () => {
  it('is zero for a signature that never occurs', () => {
    expect(leastCountWithin(1e-6, 1, 0)).toBe(0);
  });
});

describe('templateSimilarity', () => {
  it.each([
    ['bulk price missing for <*>', 'bulk price missing for <*>', 1],
    ['bulk price missing for <*>', 'bulk price missing for sku <*>', 5 / 6],
    ['bulk price missing for <*>', 'bulk price missing for sku-12', 4.5 / 5],
    ['connection refused', 'bulk price missing', 0],
    ['<*> <*>', 'any two', 0.5],
  ])('%s ~ %s = %d', (a, b, similarity) => {
    expect(templateSimilarity(a, b)).toBeCloseTo(similarity, 10);
  });

  it('is symmetric, between 0 and 1, and 1 for a template with itself', () => {
    const random = seeded(21);
    const vocabulary = ['<*>', 'order', 'price', 'missing', 'for', 'timeout', 'db', 'user', 'failed'];
    const template = () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(' ');
    for (let run = 0; run < 2_000; run += 1) {
      const a = template();
      const b = template();
      const ab = templateSimilarity(a, b);
      expect(ab).toBeCloseTo(templateSimilarity(b, a), 12);
      expect(ab).toBeGreaterThanOrEqual(0);
      expect(ab).toBeLessThanOrEqual(1);
      expect(templateSimilarity(a, a)).toBe(1);
    }
  });
});

describe('closestTemplate and baselineFor', () => {
  const candidates = [baselineOf([1], 's1', 'connection refused to <*>'), baselineOf([2], 's2', 'bulk price missing for sku <*>'), baselineOf([3], 's3', 'bulk price missing')];

  it('finds the closest template above the minimum, or none', () => {
    expect(closestTemplate('bulk price missing for <*>', candidates)).toMatchObject({ candidate: { signature: 's2' } });
    expect(closestTemplate('cart emptied by <*>', candidates)).toBeNull();
    expect(closestTemplate('bulk price missing for <*>', candidates, 0.9)).toBeNull();
  });

  it('prefers the signature itself over any template', () => {
    expect(baselineFor({ signature: 's3', template: 'bulk price missing for <*>' }, candidates)).toMatchObject({ baseline: { signature: 's3' }, similarity: 1 });
    expect(baselineFor({ signature: 'unknown', template: 'bulk price missing for <*>' }, candidates)).toMatchObject({ baseline: { signature: 's2' } });
    expect(baselineFor({ signature: null, template: 'cart emptied' }, candidates)).toBeNull();
  });
});
