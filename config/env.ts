import { z } from 'zod';

/**
 * What every area's settings share: how a duration is written, and the one error a bad setting
 * stops the process with. Each area (temporal.config.ts, sandbox.config.ts, …) declares its own
 * variables with their defaults; config.ts puts them together and reads the environment once.
 */

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const DURATION_FACTORS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30s`, `15m`, `4h`, `14d` … as milliseconds. */
export const durationMs = z
  .string()
  .regex(DURATION, 'expected a duration such as 30s, 15m, 4h')
  .transform((value) => {
    const [, amount, unit] = DURATION.exec(value)!;
    return Number(amount) * DURATION_FACTORS[unit as keyof typeof DURATION_FACTORS];
  });

/** For processes that cannot run without a value, e.g. the API without a webhook token. */
export function required<T>(value: T | null | undefined, variable: string, why: string): T {
  if (value === null || value === undefined) throw new ConfigError(`${variable} is not set: ${why}`);
  return value;
}

/** The parsed values of one area's variables. */
export type EnvOf<Shape extends z.ZodRawShape> = z.infer<z.ZodObject<Shape>>;
