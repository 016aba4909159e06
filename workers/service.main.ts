import { installTemporalRuntime } from './temporal-runtime';
import { ConfigError, loadConfig } from '../config/config';
import { startSteward } from './start-steward';

/** `npm start`: the long-lived service, worker and API, until SIGINT or SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  installTemporalRuntime({ metricsPort: config.observability.temporalMetricsPort });
  const steward = await startSteward(config, { withApi: true });
  console.log(`steward: webhook at ${steward.api!.url}/webhooks/datadog, health at ${steward.api!.url}/healthz`);
  if (steward.stack.webUiUrl) console.log(`steward: Temporal Web UI at ${steward.stack.webUiUrl}`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`steward: ${signal} received, shutting down`);
    steward.stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await steward.workerDone;
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward: ${error.message}` : error);
  process.exit(1);
});
