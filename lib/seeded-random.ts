/**
 * A seeded pseudo-random source for simulations and tests (mulberry32, 32-bit state): the same
 * seed gives the same draws on every machine, so a benchmark's figures and a test's verdict can be
 * reproduced. Not for anything secret.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform on [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform on (0, 1): safe under a logarithm. */
  private open(): number {
    let u = this.next();
    while (u === 0) u = this.next();
    return u;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  private spare: number | null = null;

  /** Standard normal, by Marsaglia's polar method: two draws a round, the second kept for the next call. */
  normal(): number {
    if (this.spare !== null) {
      const kept = this.spare;
      this.spare = null;
      return kept;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s === 0 || s >= 1) continue;
      const factor = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * factor;
      return u * factor;
    }
  }

  /** Gamma(shape, scale 1), by Marsaglia and Tsang; shapes below 1 through the boost u^(1/shape). */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.open(), 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.open();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Poisson(mean): by inversion for small means, by Hörmann's transformed rejection (PTRS) beyond, so the tails stay exact. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean < 10) {
      let k = 0;
      let p = Math.exp(-mean);
      let cumulative = p;
      const u = this.next();
      while (u > cumulative && p > 0) {
        k += 1;
        p *= mean / k;
        cumulative += p;
      }
      return k;
    }
    const logMean = Math.log(mean);
    const b = 0.931 + 2.53 * Math.sqrt(mean);
    const a = -0.059 + 0.02483 * b;
    const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
    const vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
      const u = this.next() - 0.5;
      const v = this.open();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * logMean - lnFactorial(k)) return k;
    }
  }
}

const FACTORIAL_TABLE: number[] = [0];
/** ln k!, tabulated up to 256 and by Stirling's series beyond. */
function lnFactorial(k: number): number {
  if (k < 256) {
    for (let i = FACTORIAL_TABLE.length; i <= k; i += 1) FACTORIAL_TABLE.push(FACTORIAL_TABLE[i - 1]! + Math.log(i));
    return FACTORIAL_TABLE[k]!;
  }
  const n = k + 1;
  return (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * n) - 1 / (360 * n ** 3);
}
