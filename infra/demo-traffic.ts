import { seededRandom } from './demo-baseline-logs';

/**
 * The deploy demo's shoppers: a steady loop of checkout requests at the production service. Every
 * order carries a coupon code the service knows (an order without one hits the coupon demo's bug,
 * which the baseline already holds at its own low rate), and one order in BULK_EVERY is a bulk
 * order of ten or more of one item, half of them of an item the bulk-pricing change has no price for.
 */

const CATALOGUE = [
  { sku: 'MUG', unitPriceCents: 1250 },
  { sku: 'TEE', unitPriceCents: 1999 },
  { sku: 'SOCKS', unitPriceCents: 600 },
  { sku: 'CAP', unitPriceCents: 1500 },
] as const;
const COUPON_CODES = ['WELCOME10', 'SPRING25', 'welcome10'] as const;
const BULK_EVERY = 20;

export interface CheckoutOrder {
  items: { sku: string; unitPriceCents: number; quantity: number }[];
  couponCode: string;
}

/** The n-th order of the loop: the same sequence on every run. */
export function demoOrder(n: number, random: () => number): CheckoutOrder {
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const couponCode = pick(COUPON_CODES);
  if (n % BULK_EVERY === BULK_EVERY - 1) {
    const item = pick(CATALOGUE);
    return { items: [{ ...item, quantity: 10 + Math.floor(random() * 5) }], couponCode };
  }
  const lines = 1 + Math.floor(random() * 3);
  const items = Array.from({ length: lines }, () => ({ ...pick(CATALOGUE), quantity: 1 + Math.floor(random() * 3) }));
  return { items, couponCode };
}

export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  /** Requests that got no answer (the service restarting for a deploy). */
  unanswered: number;
}

export interface Traffic {
  stats(): TrafficStats;
  /** Points the loop at another address (the service restarted on a new port). */
  retarget(url: string): void;
  stop(): Promise<TrafficStats>;
}

/** Starts the loop: `perSecond` POST /checkout requests a second until stopped. */
export function startTraffic(options: { url: string; perSecond: number; seed?: number }): Traffic {
  const random = seededRandom(options.seed ?? 7);
  const stats: TrafficStats = { sent: 0, ok: 0, failed: 0, unanswered: 0 };
  let url = options.url;
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (): void => {
    const order = demoOrder(n++, random);
    stats.sent += 1;
    const abort = new AbortController();
    const timeout = setTimeout(() => abort.abort(), 5_000);
    const request = fetch(`${url}/checkout`, { method: 'POST', headers: { 'content-type': 'application/json', connection: 'close' }, body: JSON.stringify(order), signal: abort.signal })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.ok) stats.ok += 1;
        else stats.failed += 1;
      })
      .catch(() => void (stats.unanswered += 1))
      .finally(() => {
        clearTimeout(timeout);
        inFlight.delete(request);
      });
    inFlight.add(request);
  };
  const timer = setInterval(send, Math.max(1, Math.round(1000 / options.perSecond)));
  return {
    stats: () => ({ ...stats }),
    retarget(next) {
      url = next;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all([...inFlight]);
      return { ...stats };
    },
  };
}
