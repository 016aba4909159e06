import { SpanStatusCode } from '@opentelemetry/api';
import type { ExecOptions, ExecResult, FileEdit, SandboxHandle, SandboxPort, SandboxSpec } from '../sandbox/sandbox.port';
import { InMemoryMetrics } from '../test/fakes/in-memory-metrics';
import { startInMemoryTracing } from '../test/support/in-memory-tracing';
import { ObservedSandbox, snapshotOutcome } from './observed-sandbox';

/**
 * A stand-in sandbox that answers as a backend reports (a start, a command's result); it runs
 * nothing, which is all a decorator over the port needs: the real backends have their own tests.
 */
class ReportingSandbox implements SandboxPort {
  readonly name = 'reporting stand-in';
  constructor(
    private readonly handle: Omit<SandboxHandle, 'sandboxId'>,
    private readonly result: Omit<ExecResult, 'command'> | Error,
  ) {}
  async open(spec: SandboxSpec): Promise<SandboxHandle> {
    return { ...this.handle, sandboxId: spec.sandboxId };
  }
  async exec(_sandboxId: string, command: string, _options: ExecOptions): Promise<ExecResult> {
    if (this.result instanceof Error) throw this.result;
    return { ...this.result, command };
  }
  async writeFiles(_sandboxId: string, _files: FileEdit[]): Promise<void> {}
  async readFile(): Promise<string> {
    return '';
  }
  async diff(): Promise<string> {
    return '';
  }
  async reset(): Promise<void> {}
  async destroy(): Promise<void> {}
}

const spec: SandboxSpec = { sandboxId: 'incident-1-repro', repositoryLocation: '/repos/checkout', revision: 'abc123', setupCommand: 'npm ci' };

describe('ObservedSandbox', () => {
  let traced: ReturnType<typeof startInMemoryTracing>;
  afterEach(async () => {
    await traced.tracing.shutdown();
  });

  it('times each start by snapshot hit or miss, and gives each command a span with its exit code, duration and snapshot hit', async () => {
    traced = startInMemoryTracing();
    const metrics = new InMemoryMetrics();
    const sandbox = new ObservedSandbox(
      new ReportingSandbox({ revision: 'abc123', created: true, start: { kind: 'snapshot', readyMs: 240, snapshotHit: true } }, { exitCode: 1, signal: null, timedOut: false, durationMs: 1530, outputTail: 'FAIL pricing.test.js customer alice' }),
      metrics,
    );
    await sandbox.open(spec);
    const result = await sandbox.exec(spec.sandboxId, 'npm test', { timeoutMs: 60_000 });
    expect(result.exitCode).toBe(1);

    expect(metrics.sandboxStarts).toEqual([{ snapshot: 'hit', seconds: 0.24 }]);
    const open = traced.spans().find((span) => span.name === 'sandbox.open')!;
    expect(open.attributes).toMatchObject({ 'steward.sandbox.snapshot_hit': true, 'steward.sandbox.start': 'snapshot', 'steward.sandbox.ready_ms': 240 });
    const exec = traced.spans().find((span) => span.name === 'sandbox.exec')!;
    expect(exec.attributes).toMatchObject({ 'process.command_line': 'npm test', 'process.exit.code': 1, 'steward.sandbox.duration_ms': 1530, 'steward.sandbox.timed_out': false, 'steward.sandbox.snapshot_hit': true });
    // A failing test is the command's outcome, not the span's error; and its output stays out.
    expect(exec.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(exec.attributes['steward.sandbox.output_tail']).toBeUndefined();
  });

  it('records output only when content is opted in, and a backend failure as the span error', async () => {
    traced = startInMemoryTracing({ recordContent: true });
    const ok = new ObservedSandbox(new ReportingSandbox({ revision: 'abc123', created: true, start: { kind: 'snapshot', readyMs: 9_000, snapshotHit: false } }, { exitCode: 0, signal: null, timedOut: false, durationMs: 5, outputTail: 'ok' }), new InMemoryMetrics());
    await ok.open(spec);
    await ok.exec(spec.sandboxId, 'true', { timeoutMs: 1_000 });
    expect(traced.spans().find((span) => span.name === 'sandbox.exec')!.attributes['steward.sandbox.output_tail']).toBe('ok');

    const broken = new ObservedSandbox(new ReportingSandbox({ revision: 'abc123', created: false }, Object.assign(new Error('sandbox is gone'), { type: 'SandboxLost' })), new InMemoryMetrics());
    await expect(broken.exec('gone', 'true', { timeoutMs: 1_000 })).rejects.toThrow('sandbox is gone');
    const failed = traced.spans().filter((span) => span.name === 'sandbox.exec').at(-1)!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('SandboxLost');
  });

  it('reads a start as hit, miss or none', () => {
    expect(snapshotOutcome({ kind: 'snapshot', readyMs: 1, snapshotHit: true })).toBe('hit');
    expect(snapshotOutcome({ kind: 'snapshot', readyMs: 1, snapshotHit: false })).toBe('miss');
    expect(snapshotOutcome({ kind: 'cold', readyMs: 1 })).toBe('none');
    expect(snapshotOutcome(undefined)).toBe('none');
  });
});
