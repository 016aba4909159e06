import { NativeConnection, Worker, type LogLevel, type Logger } from '@temporalio/worker';
import { ACTIVITY_ONLY_WORKER_WARNING, installTemporalRuntime } from './temporal-runtime';

/** A logger that keeps what it is given, to read what the SDK said. */
function capturingLogger(lines: { level: LogLevel; message: string }[]): Logger {
  const log = (level: LogLevel, message: string): void => void lines.push({ level, message });
  return {
    log,
    trace: (m) => log('TRACE', m),
    debug: (m) => log('DEBUG', m),
    info: (m) => log('INFO', m),
    warn: (m) => log('WARN', m),
    error: (m) => log('ERROR', m),
  };
}

describe('the Temporal runtime the entry points install', () => {
  const lines: { level: LogLevel; message: string }[] = [];
  beforeAll(() => installTemporalRuntime({ logger: capturingLogger(lines) }));

  it('starts an activity-only worker (as sandbox hosts do) without the SDK warning that it has no workflows', async () => {
    const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const worker = await Worker.create({ connection, taskQueue: `activity-only-${Date.now()}`, activities: { noop: async () => undefined } });
      await worker.runUntil(new Promise((resolve) => setTimeout(resolve, 300)));
    } finally {
      await connection.close();
    }
    // The SDK's other lines still come through: the filter drops the one warning only.
    expect(lines.some((line) => line.level === 'INFO' && /Worker state changed/.test(line.message))).toBe(true);
    expect(lines.filter((line) => line.message === ACTIVITY_ONLY_WORKER_WARNING)).toEqual([]);
  });

  it('passes every other warning through', () => {
    const kept: { level: LogLevel; message: string }[] = [];
    const inner = capturingLogger(kept);
    // A second runtime cannot be installed in one process, so the filter is checked directly as well.
    const { ActivityOnlyWorkerLogFilter } = jest.requireActual<typeof import('./temporal-runtime')>('./temporal-runtime');
    const filter = new ActivityOnlyWorkerLogFilter(inner);
    filter.warn(ACTIVITY_ONLY_WORKER_WARNING);
    filter.warn('Activity heartbeat timed out');
    filter.error(ACTIVITY_ONLY_WORKER_WARNING);
    expect(kept).toEqual([
      { level: 'WARN', message: 'Activity heartbeat timed out' },
      { level: 'ERROR', message: ACTIVITY_ONLY_WORKER_WARNING },
    ]);
  });
});
