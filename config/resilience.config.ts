import { z } from 'zod';
import { durationMs, type EnvOf } from './env';

/** How Steward rides out a service that is down: the webhooks' inbox relay, and the circuit breakers of its outbound calls. */
export const resilienceEnv = {
  /** How often the relay looks at an empty inbox (it goes batch after batch while there is work). */
  STEWARD_INBOX_RELAY_EVERY: durationMs.pipe(z.number().min(10, 'look at most every 10ms')).default(1_000),
  /** Longest wait between relay attempts while Temporal stays out (the wait doubles up to it). */
  STEWARD_INBOX_RELAY_MAX_BACKOFF: durationMs.pipe(z.number().min(10)).default(30_000),
  /** Deliveries relayed at once, each to another workflow. */
  STEWARD_INBOX_RELAY_BATCH: z.coerce.number().int().min(1).max(1000).default(50),
  /** Attempts after which a delivery failing for no known reason is set aside as a dead letter (a transient failure never is, a permanent one is at once). */
  STEWARD_INBOX_DEAD_AFTER_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
  /** Consecutive failures of a model provider, Datadog, GitHub or Slack that open its breaker. */
  STEWARD_BREAKER_FAILURES: z.coerce.number().int().min(1).default(5),
  /** How long an open breaker fails fast before it lets one probe through. */
  STEWARD_BREAKER_COOL_DOWN: durationMs.pipe(z.number().min(1, 'the cool-down must be longer than 0')).default(30_000),
};

export interface ResilienceConfig {
  inbox: { relayEveryMs: number; maxBackoffMs: number; batchSize: number; deadAfterAttempts: number };
  breakers: { failureThreshold: number; coolDownMs: number };
}

export function resilienceConfig(e: EnvOf<typeof resilienceEnv>): ResilienceConfig {
  return {
    inbox: { relayEveryMs: e.STEWARD_INBOX_RELAY_EVERY, maxBackoffMs: e.STEWARD_INBOX_RELAY_MAX_BACKOFF, batchSize: e.STEWARD_INBOX_RELAY_BATCH, deadAfterAttempts: e.STEWARD_INBOX_DEAD_AFTER_ATTEMPTS },
    breakers: { failureThreshold: e.STEWARD_BREAKER_FAILURES, coolDownMs: e.STEWARD_BREAKER_COOL_DOWN },
  };
}
