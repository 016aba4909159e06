/**
 * A circuit breaker for calls to one outside service. After `failureThreshold` consecutive failures
 * it opens: calls fail at once, without reaching the service, for `coolDownMs`. Then it is half-open:
 * one call goes through as a probe; its success closes the breaker, its failure opens it for another
 * cool-down. Calls made while the probe is out fail at once too, so a service that is coming back
 * gets one request, not a thundering herd.
 *
 * Why: a Temporal activity that fails is retried with backoff, by every incident that needs the
 * service, so a service that is down gets hammered by retries that cannot succeed. Failing fast
 * with a retryable error costs the activity nothing (its retry comes later, when the breaker may
 * be half-open) and spares the service.
 *
 * Hand-written and small (no dependency): state is per process, which is what a breaker protects.
 */

export type BreakerStatus = 'closed' | 'open' | 'half_open';

export interface BreakerState {
  name: string;
  state: BreakerStatus;
  consecutiveFailures: number;
  /** While open: when the next call may go through as a probe. */
  retryAt: string | null;
}

export interface CircuitBreakerOptions {
  /** The service, e.g. `model:anthropic`, `datadog`, `github`, `slack`. */
  name: string;
  /** Consecutive failures that open the breaker (at least 1). */
  failureThreshold: number;
  /** How long it stays open before a probe (at least 1 ms). */
  coolDownMs: number;
  /** Whether an error counts against the service; by default every one does. A refusal of a bad request, say, does not. */
  isFailure?: (error: unknown) => boolean;
  /** The error a call gets while the breaker is open; by default a CircuitOpenError. */
  openError?: (breaker: CircuitBreaker) => Error;
  /** Told of every change of state (for metrics and logs); what it throws is ignored, as a listener must not break a call. */
  onStateChange?: (breaker: CircuitBreaker, state: BreakerStatus) => void;
  now?: () => number;
}

export class CircuitOpenError extends Error {
  constructor(
    readonly breaker: string,
    readonly retryAt: Date,
  ) {
    super(`circuit breaker ${breaker} is open after repeated failures: not calling it until ${retryAt.toISOString()}`);
    this.name = 'CircuitOpenError';
  }
}

export class CircuitBreaker {
  readonly name: string;
  private status: BreakerStatus = 'closed';
  private failures = 0;
  private openedUntil = 0;
  private probing = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    if (!Number.isInteger(options.failureThreshold) || options.failureThreshold < 1) throw new Error(`circuit breaker ${options.name}: failureThreshold must be a positive integer`);
    if (!Number.isFinite(options.coolDownMs) || options.coolDownMs < 1) throw new Error(`circuit breaker ${options.name}: coolDownMs must be at least 1`);
    this.name = options.name;
    this.now = options.now ?? Date.now;
  }

  /** Runs `call` unless the breaker is open; counts its outcome. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const probe = this.enter();
    try {
      const result = await call();
      this.settle(probe, null);
      return result;
    } catch (error) {
      this.settle(probe, error);
      throw error;
    }
  }

  /** Admits a call or throws the open error; true when the call is the half-open probe. */
  enter(): boolean {
    this.admit();
    const probe = this.status === 'half_open';
    if (probe) this.probing = true;
    return probe;
  }

  /** Counts a call already made (one that could not be refused); true when it serves as the half-open probe. */
  enterUnrefused(): boolean {
    try {
      return this.enter();
    } catch {
      return false;
    }
  }

  /** Counts the outcome of a call `enter` admitted: `error` null for a success. */
  settle(probe: boolean, error: unknown): void {
    if (probe) this.probing = false;
    if (error !== null && this.counts(error)) this.failed();
    else this.succeeded();
  }

  state(): BreakerState {
    // An open breaker whose cool-down is over reads as half-open: that is what the next call finds.
    const status = this.status === 'open' && this.now() >= this.openedUntil ? 'half_open' : this.status;
    return { name: this.name, state: status, consecutiveFailures: this.failures, retryAt: this.status === 'open' ? new Date(this.openedUntil).toISOString() : null };
  }

  private admit(): void {
    if (this.status === 'open') {
      if (this.now() < this.openedUntil) throw this.openError();
      this.transition('half_open');
    }
    if (this.status === 'half_open' && this.probing) throw this.openError();
  }

  private counts(error: unknown): boolean {
    try {
      return this.options.isFailure ? this.options.isFailure(error) : true;
    } catch {
      return true;
    }
  }

  private succeeded(): void {
    this.failures = 0;
    if (this.status !== 'closed') this.transition('closed');
  }

  private failed(): void {
    this.failures += 1;
    if (this.status === 'half_open' || this.failures >= this.options.failureThreshold) {
      this.openedUntil = this.now() + this.options.coolDownMs;
      // Re-opened from half-open is a change too: listeners see every open.
      this.transition('open');
    }
  }

  private openError(): Error {
    return this.options.openError ? this.options.openError(this) : new CircuitOpenError(this.name, new Date(this.openedUntil));
  }

  /** When the breaker lets calls through again; meaningful while open. */
  get retryAt(): Date {
    return new Date(this.openedUntil);
  }

  private transition(state: BreakerStatus): void {
    this.status = state;
    try {
      this.options.onStateChange?.(this, state);
    } catch {
      // A listener's failure is its own; the call's outcome stands.
    }
  }
}

/**
 * The same object with every method run through the breaker: how an adapter (one provider behind a
 * port) is guarded without touching its code. A method that answers with a promise is a call to the
 * service: counted, and refused while the breaker is open (as a rejected promise). A method that
 * answers synchronously (a label, a helper) is not: it is passed through, and never refused. Which
 * kind a method is shows on its first call (or from its being an async function), before which an
 * open breaker lets it through to find out.
 */
export function guardedBy<T extends object>(target: T, breaker: CircuitBreaker): T {
  const asynchronous = new Set<PropertyKey>();
  return new Proxy(target, {
    get(object, prop) {
      const value: unknown = Reflect.get(object, prop, object);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (method.constructor.name === 'AsyncFunction') asynchronous.add(prop);
      return (...args: unknown[]): unknown => {
        let probe = false;
        if (asynchronous.has(prop)) {
          try {
            probe = breaker.enter();
          } catch (error) {
            return Promise.reject(error);
          }
          return settled(breaker, probe, () => method.apply(object, args) as Promise<unknown>);
        }
        const result = method.apply(object, args);
        if (!(result instanceof Promise)) return result;
        // Found to be a call to the service: counted from now on, this first one included.
        asynchronous.add(prop);
        return settled(breaker, breaker.enterUnrefused(), () => result);
      };
    },
  });
}

function settled(breaker: CircuitBreaker, probe: boolean, call: () => Promise<unknown>): Promise<unknown> {
  let pending: Promise<unknown>;
  try {
    pending = call();
  } catch (error) {
    breaker.settle(probe, error);
    return Promise.reject(error);
  }
  return pending.then(
    (answer: unknown) => {
      breaker.settle(probe, null);
      return answer;
    },
    (error: unknown) => {
      breaker.settle(probe, error);
      throw error;
    },
  );
}
