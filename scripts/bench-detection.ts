import { parseArgs } from 'node:util';
import { startRegressionTest, observeRegressionTest, DEFAULT_REGRESSION_SETTINGS, type BaselineSignature } from '../domain/regression/sequential-test';
import { SeededRandom } from '../lib/seeded-random';

/**
 * `npm run bench:detection`: how the deploy watch's sequential test and the seed method fare on
 * simulated error streams, in virtual time (nothing waits). 500 signatures with baseline rates
 * spread log-uniformly from 0.1 to 600 an hour, each overdispersed from clock hour to clock hour by
 * a gamma factor: steady ones about 20% (CV 0.2), bursty ones 100% to 150%. Every deploy draws a
 * fresh 7-day baseline and 60 minutes after, polled each minute; half the deploys carry one
 * injected regression: a signature ×3 (its rate band drawn evenly, then a signature in it) or a new
 * signature at 10 an hour. The seed method: a fixed 60-minute window, a Poisson test at p < 0.05 per
 * signature against the 7-day mean, new signatures flagged when they repeat. Prints figures
 * side by side and whether each goal is met; a benchmark, not a test: it asserts nothing.
 */
const { values: options } = parseArgs({
  options: {
    seed: { type: 'string', default: '20261202' },
    deploys: { type: 'string', default: '1000' },
    signatures: { type: 'string', default: '500' },
  },
});
const say = (line: string): void => console.log(`bench | ${line}`);

const SEED = Number(options.seed);
const DEPLOYS = Number(options.deploys);
const SIGNATURES = Number(options.signatures);
const BASELINE_HOURS = 168;
const HORIZON_MINUTES = 60;
const NEW_RATE = 10;
const BANDS: readonly (readonly [number, number])[] = [
  [0.1, 1],
  [1, 10],
  [10, 30],
  [30, 100],
  [100, 600],
];

interface SimSignature {
  id: string;
  rate: number;
  cv: number;
  bursty: boolean;
  band: number;
}

function world(random: SeededRandom): SimSignature[] {
  const out: SimSignature[] = [];
  for (let i = 0; i < SIGNATURES; i += 1) {
    const rate = Math.exp(Math.log(0.1) + random.next() * (Math.log(600) - Math.log(0.1)));
    const bursty = random.next() < 0.4;
    const cv = bursty ? 1 + 0.5 * random.next() : 0.2;
    const band = BANDS.findIndex(([low, high]) => rate >= low && rate < high);
    out.push({ id: `sig${String(i).padStart(4, '0')}`, rate, cv, bursty, band: band < 0 ? BANDS.length - 1 : band });
  }
  return out;
}

/** A clock hour's rate factor: gamma with mean 1 and the signature's coefficient of variation. */
function hourFactor(random: SeededRandom, cv: number): number {
  const shape = 1 / (cv * cv);
  return random.gamma(shape) / shape;
}

type Injection = { kind: 'clean' } | { kind: 'raise'; target: number } | { kind: 'new' };

interface DeployData {
  baseline: BaselineSignature[];
  /** Per signature (index), then the new one last: lines in each minute after the deploy. */
  minutes: number[][];
}

/**
 * One deploy's logs. The deploy falls `offset` minutes into a clock hour; the baseline's hours end at
 * the deploy, so each straddles two clock hours, and the first after-deploy minutes share the
 * factor of the baseline's last clock hour, as a real stream's bursts do.
 */
function simulateDeploy(random: SeededRandom, signatures: SimSignature[], injection: Injection): DeployData {
  const offset = random.next();
  const baseline: BaselineSignature[] = [];
  const minutes: number[][] = [];
  signatures.forEach((sig, index) => {
    // Clock hours 0..BASELINE_HOURS: hour BASELINE_HOURS holds the deploy; one more after it.
    const factors = Array.from({ length: BASELINE_HOURS + 2 }, () => hourFactor(random, sig.cv));
    const hourlyCounts = new Array<number>(BASELINE_HOURS);
    for (let h = 0; h < BASELINE_HOURS; h += 1) hourlyCounts[h] = random.poisson(sig.rate * ((1 - offset) * factors[h]! + offset * factors[h + 1]!));
    baseline.push({ signature: sig.id, template: `error ${sig.id} <*>`, hourlyCounts });
    const multiplier = injection.kind === 'raise' && injection.target === index ? 3 : 1;
    const after = new Array<number>(HORIZON_MINUTES);
    for (let m = 0; m < HORIZON_MINUTES; m += 1) {
      const clock = offset + m / 60 < 1 ? BASELINE_HOURS : BASELINE_HOURS + 1;
      after[m] = random.poisson((multiplier * sig.rate * factors[clock]!) / 60);
    }
    minutes.push(after);
  });
  if (injection.kind === 'new') minutes.push(Array.from({ length: HORIZON_MINUTES }, () => random.poisson(NEW_RATE / 60)));
  return { baseline, minutes };
}

/** P(Poisson(mean) ≥ x). */
function poissonUpperTail(x: number, mean: number): number {
  if (x <= 0) return 1;
  if (mean <= 0) return 0;
  let lnTerm = -mean + x * Math.log(mean) - lnFactorialOf(x);
  let sum = 0;
  for (let k = x; k < x + 10_000; k += 1) {
    const term = Math.exp(lnTerm);
    sum += term;
    if (term < sum * 1e-12 && k > mean) break;
    lnTerm += Math.log(mean) - Math.log(k + 1);
  }
  return Math.min(1, sum);
}
function lnFactorialOf(n: number): number {
  let sum = 0;
  for (let i = 2; i <= n; i += 1) sum += Math.log(i);
  return sum;
}

/**
 * The smallest count c with P(X ≥ c) ≤ level, X negative binomial with this mean and gamma shape: a
 * one-look test that knows the signature's true rate and overdispersion, the best any method could
 * do at that time with that budget. A reference for what is reachable, not a competitor.
 */
function oracleCritical(mean: number, shape: number, level: number): number {
  const p = mean / (shape + mean);
  let lnPmf = shape * Math.log(shape / (shape + mean));
  let cumulative = 0;
  for (let x = 0; x < 100_000; x += 1) {
    if (1 - cumulative <= level) return x;
    cumulative += Math.exp(lnPmf);
    lnPmf += Math.log((shape + x) / (x + 1)) + Math.log(p);
  }
  return Infinity;
}

/** P(X ≥ c) for c = 0, 1, …, X negative binomial with this mean and gamma shape, until the tail is negligible. */
function negativeBinomialSurvival(mean: number, shape: number): number[] {
  const p = mean / (shape + mean);
  let lnPmf = shape * Math.log(shape / (shape + mean));
  const pmf: number[] = [];
  let cumulative = 0;
  // Past the mode, stop once a term no longer counts: summing to 1 − ε stalls on rounding.
  for (let x = 0; x < 100_000; x += 1) {
    const term = Math.exp(lnPmf);
    pmf.push(term);
    cumulative += term;
    if (x > mean && term < cumulative * 1e-16) break;
    lnPmf += Math.log((shape + x) / (x + 1)) + Math.log(p);
  }
  const survival = new Array<number>(pmf.length + 1).fill(0);
  for (let x = pmf.length - 1; x >= 0; x -= 1) survival[x] = survival[x + 1]! + pmf[x]!;
  return survival;
}

/**
 * An upper bound on the 10-minute goal for any test at all: one look at 10 minutes that knows each
 * goal signature's true rate and overdispersion, and spends the whole per-deploy budget on those
 * signatures alone (nothing for the other signatures or for new ones), split between them optimally
 * (greedy on power gained per false alarm spent, which is optimal for these concave power curves).
 * By Neyman–Pearson the count at 10 minutes is what such a test can use, so no sequential test
 * under the same budget flags more of them within 10 minutes. Returns each signature's chance of
 * being flagged within 10 minutes when it is the one that regressed.
 */
function bestPossibleWithin10(goalSignatures: SimSignature[], budget: number): number[] {
  const curves = goalSignatures.map((sig) => ({ null: negativeBinomialSurvival(sig.rate / 6, 1 / (sig.cv * sig.cv)), raised: negativeBinomialSurvival((3 * sig.rate) / 6, 1 / (sig.cv * sig.cv)) }));
  const critical = curves.map((curve) => curve.null.length - 1);
  let spent = curves.reduce((sum, curve, i) => sum + curve.null[critical[i]!]!, 0);
  for (;;) {
    let best = -1;
    let bestGain = 0;
    curves.forEach((curve, i) => {
      const c = critical[i]!;
      if (c <= 0) return;
      const cost = curve.null[c - 1]! - curve.null[c]!;
      if (spent + cost > budget) return;
      const gain = ((curve.raised[c - 1] ?? 0) - (curve.raised[c] ?? 0)) / Math.max(cost, 1e-300);
      if (gain > bestGain) [best, bestGain] = [i, gain];
    });
    if (best < 0) break;
    spent += curves[best]!.null[critical[best]! - 1]! - curves[best]!.null[critical[best]!]!;
    critical[best] = critical[best]! - 1;
  }
  return curves.map((curve, i) => curve.raised[critical[i]!] ?? 0);
}

interface Outcome {
  /** Flags on a signature that was not injected. */
  falseFlags: number;
  /** Minutes to flag the injected signature; null when not within the horizon. */
  delay: number | null;
}

const NEW_ID = 'injected-new';

function runSteward(data: DeployData, injection: Injection, signatures: SimSignature[]): Outcome {
  let state = startRegressionTest(data.baseline, DEFAULT_REGRESSION_SETTINGS);
  const cumulative = new Array<number>(data.minutes.length).fill(0);
  let falseFlags = 0;
  let delay: number | null = null;
  const targetId = injection.kind === 'raise' ? signatures[injection.target]!.id : injection.kind === 'new' ? NEW_ID : null;
  for (let minute = 1; minute <= HORIZON_MINUTES; minute += 1) {
    const counts: { signature: string; template: string; count: number }[] = [];
    for (let i = 0; i < data.minutes.length; i += 1) {
      cumulative[i] += data.minutes[i]![minute - 1]!;
      if (cumulative[i]! > 0) counts.push({ signature: i < signatures.length ? signatures[i]!.id : NEW_ID, template: 'error', count: cumulative[i]! });
    }
    const look = observeRegressionTest(state, { at: new Date(minute * 60_000).toISOString(), elapsedMs: minute * 60_000, counts });
    state = look.state;
    for (const flagged of look.newlyFlagged) {
      if (flagged.signature === targetId) delay = minute;
      else falseFlags += 1;
    }
    // A clean deploy's verdict is settled by its first false alarm; a regression's by its target's flag.
    if (targetId === null ? falseFlags > 0 : delay !== null) break;
  }
  return { falseFlags, delay };
}

function runSeed(data: DeployData, injection: Injection, signatures: SimSignature[]): Outcome {
  let falseFlags = 0;
  let delay: number | null = null;
  data.minutes.forEach((perMinute, i) => {
    const after = perMinute.reduce((a, b) => a + b, 0);
    const baselineCount = i < signatures.length ? data.baseline[i]!.hourlyCounts.reduce((a, b) => a + b, 0) : 0;
    const flagged = baselineCount === 0 ? after >= 2 : poissonUpperTail(after, baselineCount / BASELINE_HOURS) < 0.05;
    if (!flagged) return;
    const isTarget = (injection.kind === 'raise' && injection.target === i) || (injection.kind === 'new' && i === signatures.length);
    if (isTarget) delay = HORIZON_MINUTES;
    else falseFlags += 1;
  });
  return { falseFlags, delay };
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

interface Cell {
  label: string;
  steward: (number | null)[];
  seed: (number | null)[];
  /** Whether the one-look oracle at 10 minutes (true rate and overdispersion known, α/N) would have caught it. */
  oracle10: boolean[];
}

function describeDelays(delays: (number | null)[]): string {
  const n = delays.length;
  if (n === 0) return 'n=0';
  const found = delays.filter((d): d is number => d !== null).sort((a, b) => a - b);
  const within10 = found.filter((d) => d <= 10).length;
  const med = found.length * 2 >= n ? quantile([...found, ...new Array<number>(n - found.length).fill(Infinity)], 0.5) : null;
  const p90 = found.length >= 0.9 * n ? quantile([...found, ...new Array<number>(n - found.length).fill(Infinity)], 0.9) : null;
  const pct = (k: number) => `${((100 * k) / n).toFixed(0).padStart(3)}%`;
  return `${pct(found.length)} in 60m, ${pct(within10)} in 10m, median ${med === null ? '  >60' : `${String(med).padStart(3)}m`}, p90 ${p90 === null ? '  >60' : `${String(p90).padStart(3)}m`}`;
}

function main(): void {
  const started = process.hrtime.bigint();
  const random = new SeededRandom(SEED);
  const signatures = world(random);
  const byBand = BANDS.map((_, band) => signatures.map((sig, i) => ({ sig, i })).filter(({ sig }) => sig.band === band));
  const clean = { steward: 0, seed: 0, stewardFlags: 0, seedFlags: 0, deploys: 0 };
  const cells = new Map<string, Cell>();
  const cell = (label: string): Cell => {
    let found = cells.get(label);
    if (!found) cells.set(label, (found = { label, steward: [], seed: [], oracle10: [] }));
    return found;
  };
  for (let d = 0; d < DEPLOYS; d += 1) {
    let injection: Injection = { kind: 'clean' };
    if (d % 2 === 1) {
      if (random.next() < 2 / 3) {
        const band = byBand.filter((members) => members.length > 0)[random.int(byBand.filter((members) => members.length > 0).length)]!;
        injection = { kind: 'raise', target: band[random.int(band.length)]!.i };
      } else injection = { kind: 'new' };
    }
    const data = simulateDeploy(random, signatures, injection);
    const steward = runSteward(data, injection, signatures);
    const seed = runSeed(data, injection, signatures);
    if (injection.kind === 'clean') {
      clean.deploys += 1;
      clean.steward += steward.falseFlags > 0 ? 1 : 0;
      clean.seed += seed.falseFlags > 0 ? 1 : 0;
      clean.seedFlags += seed.falseFlags;
      continue;
    }
    const label =
      injection.kind === 'new'
        ? `new at ${NEW_RATE}/h`
        : (() => {
            const sig = signatures[injection.target]!;
            const [low, high] = BANDS[sig.band]!;
            return `x3 ${sig.bursty ? 'bursty' : 'steady'} ${low}-${high}/h`;
          })();
    let oracle = false;
    if (injection.kind === 'raise') {
      const sig = signatures[injection.target]!;
      const tenMinutes = data.minutes[injection.target]!.slice(0, 10).reduce((a, b) => a + b, 0);
      oracle = tenMinutes >= oracleCritical(sig.rate / 6, 1 / (sig.cv * sig.cv), DEFAULT_REGRESSION_SETTINGS.falseAlarmRate / SIGNATURES);
    } else oracle = data.minutes[SIGNATURES]!.slice(0, 10).some((count) => count > 0);
    for (const target of [cell(label), ...(injection.kind === 'raise' && !signatures[injection.target]!.bursty && signatures[injection.target]!.rate >= 30 ? [cell('goal: x3 steady >=30/h')] : [])]) {
      target.steward.push(steward.delay);
      target.seed.push(seed.delay);
      target.oracle10.push(oracle);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  say(`seed ${SEED}, ${DEPLOYS} deploys (${clean.deploys} clean), ${SIGNATURES} signatures (${signatures.filter((s) => s.bursty).length} bursty), ${BASELINE_HOURS} h baseline, polls each minute for ${HORIZON_MINUTES} min, falseAlarmRate ${DEFAULT_REGRESSION_SETTINGS.falseAlarmRate}; ${seconds.toFixed(1)} s`);
  say('');
  say(`false alarms, share of clean deploys with at least one: Steward ${((100 * clean.steward) / clean.deploys).toFixed(1)}% | seed ${((100 * clean.seed) / clean.deploys).toFixed(1)}% (seed: ${(clean.seedFlags / clean.deploys).toFixed(1)} false flags per clean deploy)`);
  say('');
  say(`${'injected regression'.padEnd(26)} ${'n'.padStart(4)}  ${'Steward'.padEnd(50)} | ${'seed (fixed 60-minute window)'.padEnd(50)} | oracle in 10m`);
  const ordered = [...cells.values()].sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  const share = (flags: boolean[]) => `${((100 * flags.filter(Boolean).length) / Math.max(1, flags.length)).toFixed(0).padStart(3)}%`;
  for (const c of ordered) say(`${c.label.padEnd(26)} ${String(c.steward.length).padStart(4)}  ${describeDelays(c.steward).padEnd(50)} | ${describeDelays(c.seed).padEnd(50)} | ${share(c.oracle10)}`);
  say('oracle in 10m: one look at 10 minutes knowing the true rate and overdispersion, at falseAlarmRate/500 per signature (for a new signature: any line in 10 minutes); the most any method could reach');
  say('');
  const falseAlarmShare = clean.steward / clean.deploys;
  const goalCell = cells.get('goal: x3 steady >=30/h');
  const within = (delays: (number | null)[], minutes: number) => (delays.length === 0 ? 0 : delays.filter((x) => x !== null && x <= minutes).length / delays.length);
  const steady10 = goalCell ? within(goalCell.steward, 10) : 0;
  const fresh = cells.get(`new at ${NEW_RATE}/h`);
  const fresh10 = fresh ? within(fresh.steward, 10) : 0;
  const freshMedian = fresh ? quantile(fresh.steward.map((x) => x ?? Infinity).sort((a, b) => a - b), 0.5) : null;
  const verdict = (met: boolean) => (met ? 'met    ' : 'NOT met');
  // Weighted as the goal's cell is: a band drawn evenly, then a steady signature within it.
  const goalSignatures = signatures.filter((sig) => !sig.bursty && sig.rate >= 30);
  const bestPowers = bestPossibleWithin10(goalSignatures, DEFAULT_REGRESSION_SETTINGS.falseAlarmRate);
  const goalBands = [...new Set(goalSignatures.map((sig) => sig.band))];
  const bound = goalBands.reduce((sum, band) => {
    const powers = bestPowers.filter((_, i) => goalSignatures[i]!.band === band);
    return sum + powers.reduce((a, b) => a + b, 0) / powers.length;
  }, 0) / Math.max(1, goalBands.length);
  say(`goal ${verdict(falseAlarmShare <= 0.01)} false alarms on at most 1% of clean deploys: ${(100 * falseAlarmShare).toFixed(1)}%`);
  say(`goal ${verdict(steady10 >= 0.9)} x3 on a steady signature >= 30/h flagged within 10 min in 90% of deploys: ${(100 * steady10).toFixed(0)}% (n=${goalCell?.steward.length ?? 0}; the oracle reaches ${goalCell ? share(goalCell.oracle10).trim() : '-'})`);
  say(`     no test can reach more than ${(100 * bound).toFixed(0)}% on this goal: a look at 10 minutes knowing the true rates and spending the whole ${DEFAULT_REGRESSION_SETTINGS.falseAlarmRate} on the ${goalSignatures.length} steady signatures >= 30/h alone, split optimally`);
  say(`goal ${verdict(fresh10 >= 0.9)} new signature at ${NEW_RATE}/h flagged within 10 min (90% of deploys): ${(100 * fresh10).toFixed(0)}%, median ${freshMedian} min (n=${fresh?.steward.length ?? 0}); at most ${(100 * (1 - Math.exp(-NEW_RATE / 6))).toFixed(0)}% can be, the share with any line in 10 min, ${(100 * (1 - Math.exp(-NEW_RATE / 6) * (1 + NEW_RATE / 6))).toFixed(0)}% with two`);
}

main();
