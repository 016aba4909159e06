import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../test/support/harness';
import { startInMemoryTracing } from '../test/support/in-memory-tracing';

/**
 * Turning tracing on bundles the OpenTelemetry workflow interceptor with the workflows. Histories
 * recorded without it (every one in test/histories) must replay with it, or a deployment could not
 * switch tracing on while incidents run: the interceptor adds no command (its spans leave through
 * a sink, which is not called on replay), and its behaviour changes are gated by SDK flags.
 */
const HISTORIES_DIR = path.join(__dirname, '..', 'test', 'histories');
const histories = fs.readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json'));

describe('replay with tracing on', () => {
  let traced: ReturnType<typeof startInMemoryTracing>;
  beforeAll(() => {
    traced = startInMemoryTracing();
  });
  afterAll(async () => {
    await traced.tracing.shutdown();
  });

  it.each(histories)('replays %s with the OpenTelemetry workflow interceptor', async (file) => {
    const json = JSON.parse(fs.readFileSync(path.join(HISTORIES_DIR, file), 'utf8')) as { events?: Array<{ workflowExecutionStartedEventAttributes?: { workflowId?: string } }> };
    const history = historyFromJSON(json);
    // Under the id it ran under: a night names its missions' workflows after its own id.
    const workflowId = json.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? file;
    const bundle = await workflowBundle(traced.tracing.workflowInterceptorModules);
    await expect(Worker.runReplayHistory({ workflowBundle: bundle, sinks: traced.tracing.sinks as never }, history, workflowId)).resolves.toBeUndefined();
  });
});
