import { joinJobLogs, logTail } from './build-log';

/** Seeded, so that a failure repeats; fast-check is not among the dependencies. */
function randomCases<T>(count: number, make: (next: (max: number) => number) => T): T[] {
  let state = 20_261_121;
  const next = (max: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % (max + 1);
  };
  return Array.from({ length: count }, () => make(next));
}
const randomText = (next: (max: number) => number, maxLength: number): string =>
  Array.from({ length: next(maxLength) }, () => 'ab \n€'[next(5)]).join('');

describe('logTail', () => {
  it('keeps a log within the limit as it is', () => {
    expect(logTail('a\nb\n', 10)).toEqual({ text: 'a\nb\n', truncated: false });
  });

  it('keeps the end of a longer one, from the start of a line, and says it cut', () => {
    const log = ['step 1 ok', 'step 2 ok', 'step 3 ok', 'step 4 ok', 'step 5 ok', 'Error: expected 100 to be 99', ''].join('\n');
    const cut = logTail(log, 60);
    expect(cut.truncated).toBe(true);
    expect(cut.text.length).toBeLessThanOrEqual(60);
    expect(cut.text).toMatch(/^… \(earlier lines cut\)\n/);
    expect(cut.text.endsWith('Error: expected 100 to be 99\n')).toBe(true);
    expect(cut.text).not.toContain('ep 4');
  });

  it('never exceeds the limit and always ends as the log ends', () => {
    for (const [log, max] of randomCases(500, (next) => [randomText(next, 400), next(300)] as const)) {
      const { text, truncated } = logTail(log, max);
      expect(text.length).toBeLessThanOrEqual(max);
      expect(truncated).toBe(log.length > max);
      if (!truncated) expect(text).toBe(log);
      if (truncated && max > 40) expect(log.endsWith(text.slice(text.indexOf('\n') + 1))).toBe(true);
    }
  });
});

describe('joinJobLogs', () => {
  it('heads each job’s log with its name and keeps short ones whole', () => {
    const joined = joinJobLogs([{ heading: 'lint', log: 'ok\n' }, { heading: 'test, failed steps: npm test', log: 'FAIL pricing.test.js\n' }], 1_000);
    expect(joined).toEqual({ text: '=== lint ===\nok\n\n=== test, failed steps: npm test ===\nFAIL pricing.test.js\n', truncated: false });
  });

  it('shares the room so that a huge log cannot crowd out a short one, and keeps within the limit', () => {
    const huge = `${'noise\n'.repeat(10_000)}Error: out of memory\n`;
    const joined = joinJobLogs([{ heading: 'build', log: huge }, { heading: 'test', log: 'FAIL checkout\n' }], 2_000);
    expect(joined.truncated).toBe(true);
    expect(joined.text.length).toBeLessThanOrEqual(2_000);
    expect(joined.text).toContain('=== build ===\n… (earlier lines cut)\n');
    expect(joined.text).toContain('Error: out of memory\n');
    expect(joined.text.endsWith('=== test ===\nFAIL checkout\n')).toBe(true);
  });

  it('stays within any limit, whatever the jobs', () => {
    const cases = randomCases(300, (next) => ({
      jobs: Array.from({ length: next(6) }, () => ({ heading: randomText(next, 30), log: randomText(next, 500) })),
      max: next(800),
    }));
    for (const { jobs, max } of cases) expect(joinJobLogs(jobs, max).text.length).toBeLessThanOrEqual(max);
  });
});
