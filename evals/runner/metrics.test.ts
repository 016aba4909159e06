import { classificationFigures, distribution, NO_ANSWER, percentile, rateOf, repeatability, severityOffBy } from './metrics';

/**
 * A fixture of ten answers whose figures were worked out by hand:
 *
 *   label \ answer   real  noise  duplicate  (no answer)
 *   real               3      1        0          1
 *   noise              1      2        0          0
 *   duplicate          0      0        2          0
 *
 * accuracy 7/10; real precision 3/4, recall 3/5; noise precision 2/3, recall 2/3; duplicate 2/2, 2/2.
 * False-positive rate (real said of noise) 1/3; missed-real rate (real said as anything else) 2/5.
 */
const pairs = [
  ...Array.from({ length: 3 }, () => ({ label: 'real', predicted: 'real' })),
  { label: 'real', predicted: 'noise' },
  { label: 'real', predicted: null },
  { label: 'noise', predicted: 'real' },
  { label: 'noise', predicted: 'noise' },
  { label: 'noise', predicted: 'noise' },
  { label: 'duplicate', predicted: 'duplicate' },
  { label: 'duplicate', predicted: 'duplicate' },
];

describe('eval metrics', () => {
  it('give the accuracy, per-class precision and recall, and confusion matrix worked out by hand', () => {
    const figures = classificationFigures(pairs, ['real', 'noise', 'duplicate']);
    expect(figures.accuracy).toBeCloseTo(0.7);
    expect(figures.correct).toBe(7);
    expect(figures.perClass.real).toEqual({ precision: 0.75, recall: 0.6, support: 5 });
    expect(figures.perClass.noise!.precision).toBeCloseTo(2 / 3);
    expect(figures.perClass.noise!.recall).toBeCloseTo(2 / 3);
    expect(figures.perClass.duplicate).toEqual({ precision: 1, recall: 1, support: 2 });
    expect(figures.confusion).toEqual({
      real: { real: 3, noise: 1, duplicate: 0, [NO_ANSWER]: 1 },
      noise: { real: 1, noise: 2, duplicate: 0, [NO_ANSWER]: 0 },
      duplicate: { real: 0, noise: 0, duplicate: 2, [NO_ANSWER]: 0 },
    });
  });

  it('say n/a, not zero, for a class nobody predicted or labelled', () => {
    const figures = classificationFigures([{ label: 'real', predicted: 'real' }], ['real', 'noise']);
    expect(figures.perClass.noise).toEqual({ precision: null, recall: null, support: 0 });
    expect(figures.confusion).toEqual({ real: { real: 1, noise: 0 }, noise: { real: 0, noise: 0 } });
    expect(classificationFigures([], ['real']).accuracy).toBeNull();
  });

  it('give the false-positive and missed-real rates', () => {
    expect(rateOf(pairs, 'noise', 'real')).toBeCloseTo(1 / 3);
    expect(rateOf(pairs, 'real', null)).toBeCloseTo(2 / 5);
    expect(rateOf(pairs, 'unknown', 'real')).toBeNull();
  });

  it('count severities off by k, leaving out steps that gave no answer', () => {
    const figures = severityOffBy([
      { label: 'P1', predicted: 'P1' },
      { label: 'P1', predicted: 'P2' },
      { label: 'P0', predicted: 'P3' },
      { label: 'P3', predicted: 'P1' },
      { label: 'P2', predicted: null },
    ]);
    expect(figures).toEqual({ answered: 4, offBy: { '0': 1, '1': 1, '2': 1, '3': 1 }, withinOne: 0.5 });
    expect(() => severityOffBy([{ label: 'P5', predicted: 'P1' }])).toThrow('not a severity: P5');
  });

  it('measure agreement across repeats: unanimous cases and mean agreement with the most common answer', () => {
    // a: 3/3 agree; b: 2/3 agree; c: 1/2 (a tie counts its larger side); d is not repeated.
    const figures = repeatability(
      new Map<string, (string | null)[]>([
        ['a', ['real', 'real', 'real']],
        ['b', ['real', 'noise', 'real']],
        ['c', ['noise', null]],
        ['d', ['real']],
      ]),
    );
    expect(figures.cases).toBe(3);
    expect(figures.unanimous).toBeCloseTo(1 / 3);
    expect(figures.meanAgreement).toBeCloseTo((1 + 2 / 3 + 1 / 2) / 3);
  });

  it('take nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
    expect(distribution([30, 10, 20])).toEqual({ n: 3, total: 60, mean: 20, p50: 20, p90: 30, max: 30 });
    expect(distribution([])).toEqual({ n: 0, total: 0, mean: null, p50: null, p90: null, max: null });
  });
});
