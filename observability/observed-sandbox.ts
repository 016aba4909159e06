import { trace, type Attributes } from '@opentelemetry/api';
import { failSpan } from '../lib/span-failure';
import { traceContentRecorded } from '../lib/trace-content';
import type { MetricsPort } from '../ports/metrics.port';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxPort, SandboxSpec, SandboxStart } from '../sandbox/sandbox.port';

/**
 * The sandbox port with a span per start and per command, and the start time as a figure. A
 * command's span says its exit code, signal, time-out and duration, and whether the sandbox it ran
 * in started from a snapshot that was already there (`steward.sandbox.snapshot_hit`), as its start
 * reported it in this process; the command line is recorded, its output only with
 * STEWARD_TRACE_CONTENT (it may print production data the reproduction was given).
 */

const tracer = () => trace.getTracer('steward.sandbox');

/** `hit` a snapshot served, `miss` one was built for this start, `none` no snapshot involved (a cold clone, a reused workspace, a backend without snapshots). */
export function snapshotOutcome(start: SandboxStart | undefined): 'hit' | 'miss' | 'none' {
  if (!start || start.snapshotHit === undefined) return 'none';
  return start.snapshotHit ? 'hit' : 'miss';
}

const failed = failSpan;

export class ObservedSandbox implements SandboxPort {
  /** How each sandbox opened in this process started, for its commands' spans. */
  private readonly starts = new Map<string, SandboxStart | undefined>();

  constructor(
    private readonly inner: SandboxPort,
    private readonly metrics: MetricsPort,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  open(spec: SandboxSpec): Promise<SandboxHandle> {
    return tracer().startActiveSpan('sandbox.open', { attributes: { 'steward.sandbox.id': spec.sandboxId, 'steward.sandbox.backend': this.inner.name, 'vcs.ref.head.revision': spec.revision } }, async (span) => {
      const openedAt = performance.now();
      try {
        const handle = await this.inner.open(spec);
        const outcome = snapshotOutcome(handle.start);
        const readyMs = handle.start?.readyMs ?? performance.now() - openedAt;
        this.starts.set(spec.sandboxId, handle.start);
        span.setAttributes({
          'steward.sandbox.created': handle.created,
          'steward.sandbox.start': handle.start?.kind ?? 'unreported',
          'steward.sandbox.ready_ms': readyMs,
          ...(handle.start?.snapshotHit !== undefined ? { 'steward.sandbox.snapshot_hit': handle.start.snapshotHit } : {}),
        });
        // A reused workspace did not start: only real starts are timed.
        if (handle.created || handle.start?.kind !== 'reused') this.metrics.sandboxStart(outcome, readyMs / 1000);
        return handle;
      } catch (error) {
        return failed(span, error);
      } finally {
        span.end();
      }
    });
  }

  exec(sandboxId: string, command: string, options: ExecOptions): Promise<ExecResult> {
    const start = this.starts.get(sandboxId);
    const attributes: Attributes = {
      'steward.sandbox.id': sandboxId,
      'process.command_line': command,
      ...(start?.snapshotHit !== undefined ? { 'steward.sandbox.snapshot_hit': start.snapshotHit } : {}),
    };
    return tracer().startActiveSpan('sandbox.exec', { attributes }, async (span) => {
      try {
        const result = await this.inner.exec(sandboxId, command, options);
        span.setAttributes({
          ...(result.exitCode !== null ? { 'process.exit.code': result.exitCode } : {}),
          ...(result.signal ? { 'steward.sandbox.signal': result.signal } : {}),
          'steward.sandbox.timed_out': result.timedOut,
          'steward.sandbox.duration_ms': result.durationMs,
          ...(traceContentRecorded() ? { 'steward.sandbox.output_tail': result.outputTail } : {}),
        });
        // A failing command is an outcome (a reproduction is meant to fail), not the span's error: its exit code says it.
        return result;
      } catch (error) {
        return failed(span, error);
      } finally {
        span.end();
      }
    });
  }

  writeFiles(sandboxId: string, files: FileEdit[]): Promise<void> {
    return this.inner.writeFiles(sandboxId, files);
  }
  readFile(sandboxId: string, path: string): Promise<string> {
    return this.inner.readFile(sandboxId, path);
  }
  diff(sandboxId: string): Promise<string> {
    return this.inner.diff(sandboxId);
  }
  reset(sandboxId: string): Promise<void> {
    return this.inner.reset(sandboxId);
  }
  destroy(sandboxId: string): Promise<void> {
    this.starts.delete(sandboxId);
    return this.inner.destroy(sandboxId);
  }
}
