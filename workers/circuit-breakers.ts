import { ApplicationFailure } from '@temporalio/common';
import type { ResilienceConfig } from '../config/resilience.config';
import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { CircuitBreaker, guardedBy, type BreakerState, type BreakerStatus } from '../lib/circuit-breaker';
import { recordCircuitBreakerState } from '../observability/prometheus-metrics';

/**
 * The circuit breakers of one process's outbound calls: one per outside service (each model
 * provider, Datadog, GitHub, Slack), shared by every adapter and worker of the process that calls it.
 * The composition root guards each adapter of those services with its service's breaker; /healthz of
 * the workers and of the API lists their states; `onStateChange` is where metrics are wired.
 */
export type BreakerListener = (breaker: CircuitBreaker, state: BreakerStatus) => void;

export class OutboundBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly listeners: BreakerListener[] = [];

  constructor(
    private readonly settings: ResilienceConfig['breakers'],
    options: { onStateChange?: BreakerListener; log?: (line: string) => void } = {},
  ) {
    // Every process's breakers show in its /metrics (steward_circuit_breaker_state), whoever builds them.
    this.listeners.push((breaker, state) => recordCircuitBreakerState(breaker.name, state));
    if (options.onStateChange) this.listeners.push(options.onStateChange);
    const log = options.log;
    if (log) this.listeners.push((breaker, state) => log(`circuit breaker ${breaker.name}: ${state}${state === 'open' ? ` until ${breaker.retryAt.toISOString()}` : ''}`));
  }

  /** Also for metrics wired after start: every later change of every breaker is told to `listener`. */
  onStateChange(listener: BreakerListener): void {
    this.listeners.push(listener);
  }

  /** The breaker of a service, made on first use. */
  breaker(name: string): CircuitBreaker {
    let breaker = this.breakers.get(name);
    if (!breaker) {
      breaker = new CircuitBreaker({
        name,
        failureThreshold: this.settings.failureThreshold,
        coolDownMs: this.settings.coolDownMs,
        isFailure: countsAgainstService,
        openError: (open) =>
          stewardFailure(ERROR_TYPES.circuitOpen, `${open.name} failed ${this.settings.failureThreshold} times in a row: not calling it until ${open.retryAt.toISOString()}`, {
            breaker: open.name,
            retryAt: open.retryAt.toISOString(),
          }),
        onStateChange: (changed, state) => {
          for (const listener of this.listeners) listener(changed, state);
        },
      });
      this.breakers.set(name, breaker);
      recordCircuitBreakerState(name, 'closed');
    }
    return breaker;
  }

  /** The adapter with every call to the service through the service's breaker. */
  guard<T extends object>(service: string, adapter: T): T {
    return guardedBy(adapter, this.breaker(service));
  }

  states(): BreakerState[] {
    return [...this.breakers.values()].map((breaker) => breaker.state()).sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * A permanent refusal (a non-retryable failure: bad request, not found, rejected) is the service
 * answering, so it does not count against it; anything else (timeouts, 5xx, resets) does.
 */
function countsAgainstService(error: unknown): boolean {
  return !(error instanceof ApplicationFailure && error.nonRetryable);
}
