import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig, required } from '../config/config';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { ensureSearchAttributes } from '../infra/temporal-dev-server';

/**
 * Registers Steward's search attributes on a Temporal it did not start, and exits. `npm start`
 * does this itself; a deployment that runs the API and the workers apart (the Helm chart) runs
 * this once before its incident workers start. Registering is idempotent.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const address = required(config.temporal.address, 'TEMPORAL_ADDRESS', 'search attributes are registered on an existing Temporal');
  const connection = await Connection.connect({ ...temporalConnectionOptions(address, config.temporal.security), connectTimeout: 10_000 });
  try {
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    console.log(`steward-search-attributes: ${added.length > 0 ? `registered ${added.join(', ')}` : 'all registered already'} in namespace ${config.temporal.namespace} (${address})`);
  } finally {
    await connection.close();
  }
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `steward-search-attributes: ${error.message}` : error);
  process.exit(1);
});
