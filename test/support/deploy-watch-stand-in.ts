import { NativeConnection, Runtime, Worker } from '@temporalio/worker';

/** A worker running only the stand-ins of the deploy watch and of monitor generation (deploy-watch-stand-in.workflow.ts) on its own task queue. */
export async function startDeployWatchStandIn(taskQueue: string): Promise<{ stop(): Promise<void> }> {
  try {
    Runtime.install({ logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never, shutdownSignals: [] });
  } catch {
    // installed already by another test file in this jest worker
  }
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowsPath: require.resolve('./deploy-watch-stand-in.workflow'),
  });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
    },
  };
}
