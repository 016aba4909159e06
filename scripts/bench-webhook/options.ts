import { parseArgs } from 'node:util';

/** The command line of `npm run bench` (scripts/bench-webhook.ts). */

export const USAGE = `Usage: npx tsx scripts/bench-webhook.ts [options]
  --n N                 sequential deliveries per start path for the latency table (default 200)
  --warmup N            uncounted deliveries per start path before measuring (default 10)
  --cycles N            alert cycles in the storm (default 10)
  --per-cycle N         deliveries per alert cycle in the storm (default 50)
  --concurrency N       storm deliveries in flight at once (default 25)
  --pr-timeout-min M    how long the storm's incidents may take to reach their PR (default 20)
  --max-minutes M       the whole run is abandoned, and cleaned up, after this long (default 40)`;

export interface BenchOptions {
  latencyDeliveries: number;
  warmupDeliveries: number;
  stormCycles: number;
  deliveriesPerCycle: number;
  stormConcurrency: number;
  prTimeoutMs: number;
  maxRunMs: number;
}


function integerOption(raw: string | undefined, fallback: number, flag: string, min = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min) throw new Error(`${flag} must be an integer of at least ${min}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      n: { type: 'string' },
      warmup: { type: 'string' },
      cycles: { type: 'string' },
      'per-cycle': { type: 'string' },
      concurrency: { type: 'string' },
      'pr-timeout-min': { type: 'string' },
      'max-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    latencyDeliveries: integerOption(values.n, 200, '--n'),
    warmupDeliveries: integerOption(values.warmup, 10, '--warmup', 0),
    stormCycles: integerOption(values.cycles, 10, '--cycles'),
    deliveriesPerCycle: integerOption(values['per-cycle'], 50, '--per-cycle'),
    stormConcurrency: integerOption(values.concurrency, 25, '--concurrency'),
    prTimeoutMs: integerOption(values['pr-timeout-min'], 20, '--pr-timeout-min') * 60_000,
    maxRunMs: integerOption(values['max-minutes'], 40, '--max-minutes') * 60_000,
  };
}
