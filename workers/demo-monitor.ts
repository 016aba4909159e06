import type { Pool } from 'pg';
import { upsertMonitor } from '../adapters/postgres-monitors.adapter';
import { demoMonitor } from '../infra/demo-fixtures';
import type { Monitor } from '../ports/monitors.port';

/**
 * The bundled demo's monitor, in the embedded monitor store. Created once and then reused, so the
 * PR links Steward writes into its description survive between demo runs.
 */
export async function seedDemoMonitor(pool: Pool, overrides: Partial<Omit<Monitor, 'createdBySteward'>> = {}): Promise<Monitor> {
  return upsertMonitor(pool, { ...demoMonitor(), ...overrides });
}
